package dev.dinoj.testkit;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A DINOv2 backbone written as its publishers ship it, from its tensors in the names of facebookresearch/dinov2's hub
 * models ({@code cls_token}, {@code blocks.N.attn.qkv.weight}, …): as Hugging Face transformers' conversion scripts
 * write it ({@code convert_dinov2_to_hf.py}, {@code convert_dinov2_with_registers_to_hf.py}: renamed, the fused qkv
 * split into query, key and value; {@code save_pretrained} writes {@code model.safetensors} and a {@code config.json}),
 * as timm's {@code checkpoint_filter_fn} converts it ({@code _convert_dinov2}: no {@code mask_token}, the registers as
 * {@code reg_token} with the CLS position folded into {@code cls_token} and no CLS slot in {@code pos_embed}, SwiGLU's
 * {@code w12/w3} as {@code fc1/fc2}; {@code push_to_hub} writes {@code model.safetensors} and a {@code config.json}),
 * and as the hub state dict converted to safetensors. Follows those scripts, independently of dinoj's readers.
 */
public final class PublishedBackbones {

    /** A float32 tensor. */
    public record Tensor(long[] shape, float[] data) {}

    private static final Pattern BLOCK = Pattern.compile("blocks\\.(\\d+)\\.(.+)");

    private PublishedBackbones() {}

    /** The state dict of transformers' {@code Dinov2Model} (or {@code Dinov2WithRegistersModel}). */
    public static Map<String, Tensor> transformers(Map<String, Tensor> hub) {
        int dim = (int) hub.get("cls_token").shape()[2];
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : hub.entrySet()) {
            String k = e.getKey();
            Tensor t = e.getValue();
            Matcher m = BLOCK.matcher(k);
            if (!m.matches()) {
                out.put(
                        switch (k) {
                            case "cls_token" -> "embeddings.cls_token";
                            case "mask_token" -> "embeddings.mask_token";
                            case "pos_embed" -> "embeddings.position_embeddings";
                            case "register_tokens" -> "embeddings.register_tokens";
                            case "patch_embed.proj.weight" -> "embeddings.patch_embeddings.projection.weight";
                            case "patch_embed.proj.bias" -> "embeddings.patch_embeddings.projection.bias";
                            case "norm.weight" -> "layernorm.weight";
                            case "norm.bias" -> "layernorm.bias";
                            default -> throw new IllegalArgumentException("not a hub name: " + k);
                        },
                        t);
                continue;
            }
            String layer = "encoder.layer." + m.group(1) + ".";
            String rest = m.group(2);
            if (rest.startsWith("attn.qkv.")) { // read_in_q_k_v: rows [0, D), [D, 2D), [2D, 3D)
                String kind = rest.substring("attn.qkv.".length());
                String[] names = {"query", "key", "value"};
                for (int i = 0; i < 3; i++) {
                    out.put(layer + "attention.attention." + names[i] + "." + kind, rows(t, i * dim, dim));
                }
                continue;
            }
            String renamed = rest.replace("attn.proj.", "attention.output.dense.")
                    .replace("ls1.gamma", "layer_scale1.lambda1")
                    .replace("ls2.gamma", "layer_scale2.lambda1")
                    .replace("mlp.w12.", "mlp.weights_in.")
                    .replace("mlp.w3.", "mlp.weights_out.");
            out.put(layer + renamed, t);
        }
        return out;
    }

    /** The state dict of timm's {@code vit_*_patch14_dinov2} / {@code vit_*_patch14_reg4_dinov2}. */
    public static Map<String, Tensor> timm(Map<String, Tensor> hub) {
        Map<String, Tensor> in = new LinkedHashMap<>(hub);
        in.remove("mask_token");
        Map<String, Tensor> out = new LinkedHashMap<>();
        if (in.containsKey("register_tokens")) {
            Tensor cls = in.remove("cls_token");
            Tensor pos = in.remove("pos_embed");
            int d = (int) cls.shape()[2];
            float[] folded = cls.data().clone();
            for (int c = 0; c < d; c++) {
                folded[c] += pos.data()[c]; // cls_token + pos_embed[:, 0]
            }
            out.put("reg_token", in.remove("register_tokens"));
            out.put("cls_token", new Tensor(cls.shape(), folded));
            out.put("pos_embed", rows3(pos)); // pos_embed[:, 1:]
        }
        for (Map.Entry<String, Tensor> e : in.entrySet()) {
            out.put(e.getKey().replace(".mlp.w12.", ".mlp.fc1.").replace(".mlp.w3.", ".mlp.fc2."), e.getValue());
        }
        return out;
    }

    /** The hub state dict in a safetensors file with no metadata but {@code format: pt}. */
    public static Path writeDinov2(Path file, Map<String, Tensor> hub) throws IOException {
        writeSafetensors(file, hub);
        return file;
    }

    /** {@code dir/model.safetensors} and {@code dir/config.json} of transformers' {@code save_pretrained}. */
    public static Path writeTransformers(Path dir, Map<String, Tensor> hub, int heads) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve("model.safetensors");
        writeSafetensors(file, transformers(hub));
        int[] a = arch(hub);
        boolean registers = hub.containsKey("register_tokens");
        Files.writeString(
                dir.resolve("config.json"),
                String.format(
                        Locale.ROOT,
                        "{\n  \"architectures\": [\"%s\"],\n  \"model_type\": \"%s\",\n  \"hidden_size\": %d,\n"
                                + "  \"num_hidden_layers\": %d,\n  \"num_attention_heads\": %d,\n  \"patch_size\": %d,\n"
                                + "  \"image_size\": %d,\n  \"mlp_ratio\": 4,\n  \"use_swiglu_ffn\": %b,\n"
                                + "  \"layerscale_value\": 1.0,\n  \"layer_norm_eps\": 1e-06,\n  \"qkv_bias\": true%s\n}\n",
                        registers ? "Dinov2WithRegistersModel" : "Dinov2Model",
                        registers ? "dinov2_with_registers" : "dinov2",
                        a[0],
                        a[1],
                        heads,
                        a[2],
                        a[3],
                        hub.containsKey("blocks.0.mlp.w12.weight"),
                        registers ? ",\n  \"num_register_tokens\": " + a[4] : ""));
        return file;
    }

    /**
     * {@code dir/model.safetensors} and {@code dir/config.json} of timm's {@code push_to_hub}; {@code heads} above 0
     * adds {@code model_args.num_heads} (timm writes {@code model_args} when the model was made with overrides).
     */
    public static Path writeTimm(Path dir, Map<String, Tensor> hub, int heads) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve("model.safetensors");
        writeSafetensors(file, timm(hub));
        int[] a = arch(hub);
        String name = "vit_test_patch" + a[2] + (hub.containsKey("register_tokens") ? "_reg4" : "") + "_dinov2";
        Files.writeString(
                dir.resolve("config.json"),
                String.format(
                        Locale.ROOT,
                        "{\n  \"architecture\": \"%s\",\n  \"num_classes\": 0,\n  \"num_features\": %d,\n"
                                + "  \"global_pool\": \"token\",%s\n  \"pretrained_cfg\": {\"tag\": \"test\", "
                                + "\"input_size\": [3, %d, %d], \"interpolation\": \"bicubic\", \"crop_pct\": 1.0}\n}\n",
                        name,
                        a[0],
                        heads > 0 ? "\n  \"model_args\": {\"num_heads\": " + heads + "}," : "",
                        a[3],
                        a[3]));
        return file;
    }

    /** A safetensors file of float32 tensors, {@code __metadata__ = {format: pt}}, data in the given order. */
    public static void writeSafetensors(Path file, Map<String, Tensor> tensors) throws IOException {
        StringJoiner header = new StringJoiner(",", "{", "}");
        header.add("\"__metadata__\":{\"format\":\"pt\"}");
        long offset = 0;
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            long bytes = 4L * e.getValue().data().length;
            StringJoiner shape = new StringJoiner(",", "[", "]");
            Arrays.stream(e.getValue().shape()).forEach(s -> shape.add(Long.toString(s)));
            header.add("\"" + e.getKey() + "\":{\"dtype\":\"F32\",\"shape\":" + shape + ",\"data_offsets\":[" + offset
                    + "," + (offset + bytes) + "]}");
            offset += bytes;
        }
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        int padded = (h.length + 7) / 8 * 8;
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(8 + padded + offset)).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(padded).put(h);
        for (int i = h.length; i < padded; i++) {
            b.put((byte) ' ');
        }
        for (Tensor t : tensors.values()) {
            for (float f : t.data()) {
                b.putFloat(f);
            }
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, b.array());
    }

    /** {embed-dim, depth, patch, image size, registers} of hub tensors. */
    private static int[] arch(Map<String, Tensor> hub) {
        int depth = 0;
        while (hub.containsKey("blocks." + depth + ".norm1.weight")) {
            depth++;
        }
        int patch = (int) hub.get("patch_embed.proj.weight").shape()[2];
        int grid = (int) Math.round(Math.sqrt(hub.get("pos_embed").shape()[1] - 1));
        Tensor reg = hub.get("register_tokens");
        return new int[] {
            (int) hub.get("cls_token").shape()[2], depth, patch, grid * patch, reg == null ? 0 : (int) reg.shape()[1]
        };
    }

    /** Rows [from, from + n) of a tensor's first dimension. */
    private static Tensor rows(Tensor t, int from, int n) {
        int row = t.data().length / (int) t.shape()[0];
        long[] shape = t.shape().clone();
        shape[0] = n;
        return new Tensor(shape, Arrays.copyOfRange(t.data(), from * row, (from + n) * row));
    }

    /** A (1, 1 + N, D) position embedding without its first slot: (1, N, D). */
    private static Tensor rows3(Tensor pos) {
        int d = (int) pos.shape()[2];
        return new Tensor(new long[] {1, pos.shape()[1] - 1, d}, Arrays.copyOfRange(pos.data(), d, pos.data().length));
    }
}
