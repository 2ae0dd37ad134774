package dev.dinoj.trainer.weights;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The key layouts DINOv2 backbones are published in. Each names the same tensors differently; {@link HubMapping}
 * turns any of them into the dinov2 hub names the {@code VisionTransformer} reads, and {@link #fileName} gives the
 * file's own name of a hub tensor (for messages).
 */
public enum WeightLayout {
    /**
     * facebookresearch/dinov2's hub models and {@code dinoj export}: {@code cls_token}, {@code pos_embed} (with the
     * CLS slot), {@code register_tokens}, {@code mask_token}, {@code patch_embed.proj}, {@code blocks.N.{norm1,
     * attn.qkv, attn.proj, ls1.gamma, norm2, mlp.fc1/fc2 or mlp.w12/w3, ls2.gamma}}, {@code norm}. Chunked block
     * names of dinov2's training checkpoints ({@code blocks.C.N.…}) are read too.
     */
    DINOV2("dinov2"),
    /**
     * Hugging Face transformers {@code Dinov2Model} / {@code Dinov2WithRegistersModel}: {@code embeddings.*},
     * {@code encoder.layer.N.*} with the attention's query, key and value as three tensors, {@code layer_scaleK.lambda1},
     * SwiGLU as {@code mlp.weights_in/weights_out}, final {@code layernorm}.
     */
    TRANSFORMERS("transformers"),
    /**
     * timm {@code vit_*_patch14_dinov2} and {@code vit_*_patch14_reg4_dinov2}: the dinov2 names without
     * {@code mask_token}; the registers as {@code reg_token}, whose models add no position to CLS and registers (their
     * {@code pos_embed} has no CLS slot, and the CLS slot's position is folded into {@code cls_token}); SwiGLU packed as
     * {@code mlp.fc1/fc2} (or {@code mlp.fc1_g/fc1_x/fc2}).
     */
    TIMM("timm");

    /** transformers name inside {@code encoder.layer.N.} → dinov2 name inside {@code blocks.N.} (prefixes). */
    static final List<String[]> TRANSFORMERS_BLOCK = List.of(
            new String[] {"norm1.", "norm1."},
            new String[] {"norm2.", "norm2."},
            new String[] {"attention.output.dense.", "attn.proj."},
            new String[] {"layer_scale1.lambda1", "ls1.gamma"},
            new String[] {"layer_scale2.lambda1", "ls2.gamma"},
            new String[] {"mlp.fc1.", "mlp.fc1."},
            new String[] {"mlp.fc2.", "mlp.fc2."},
            new String[] {"mlp.weights_in.", "mlp.w12."},
            new String[] {"mlp.weights_out.", "mlp.w3."},
            new String[] {"mlp.w12.", "mlp.w12."},
            new String[] {"mlp.w3.", "mlp.w3."});

    /** transformers name → dinov2 name, outside the blocks. */
    static final Map<String, String> TRANSFORMERS_TOP = Map.of(
            "embeddings.cls_token", "cls_token",
            "embeddings.mask_token", "mask_token",
            "embeddings.position_embeddings", "pos_embed",
            "embeddings.register_tokens", "register_tokens",
            "embeddings.patch_embeddings.projection.weight", "patch_embed.proj.weight",
            "embeddings.patch_embeddings.projection.bias", "patch_embed.proj.bias",
            "layernorm.weight", "norm.weight",
            "layernorm.bias", "norm.bias");

    /** transformers' q/k/v projections, in the order of the fused qkv rows. */
    static final List<String> QKV = List.of("query", "key", "value");

    private static final Pattern HUB_BLOCK = Pattern.compile("blocks\\.(\\d+)\\.(.+)");

    private final String label;

    WeightLayout(String label) {
        this.label = label;
    }

    /** The layout's name in messages and logs. */
    public String label() {
        return label;
    }

    /**
     * The name under which this layout stores the hub tensor {@code hub} (the first of several for a fused tensor),
     * for messages about a missing or malformed tensor.
     */
    public String fileName(String hub) {
        switch (this) {
            case TIMM:
                if (hub.equals("register_tokens")) {
                    return "reg_token";
                }
                return hub.replace(".mlp.w12.", ".mlp.fc1.").replace(".mlp.w3.", ".mlp.fc2.");
            case TRANSFORMERS:
                for (Map.Entry<String, String> e : TRANSFORMERS_TOP.entrySet()) {
                    if (e.getValue().equals(hub)) {
                        return e.getKey();
                    }
                }
                Matcher m = HUB_BLOCK.matcher(hub);
                if (m.matches()) {
                    String rest = m.group(2);
                    String layer = "encoder.layer." + m.group(1) + ".";
                    if (rest.startsWith("attn.qkv.")) {
                        return layer + "attention.attention.query." + rest.substring("attn.qkv.".length());
                    }
                    for (String[] r : TRANSFORMERS_BLOCK) {
                        if (rest.startsWith(r[1])) {
                            return layer + r[0] + rest.substring(r[1].length());
                        }
                    }
                }
                return hub;
            default:
                return hub;
        }
    }

    @Override
    public String toString() {
        return label;
    }
}
