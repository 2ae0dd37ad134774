package dev.dinoj.trainer.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.io.Safetensors;
import dev.dinoj.trainer.model.FfnType;
import dev.dinoj.trainer.model.ModelInit;
import dev.dinoj.trainer.model.VitConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A safetensors file holding a DINOv2 backbone in any published layout ({@link WeightLayout}: dinov2 hub / dinoj,
 * Hugging Face transformers, timm), and the architecture its tensors imply, so that no configuration is needed: the
 * width from {@code cls_token}, the depth from the block indices, the patch from the patch embedding's kernel, the
 * position grid (hence the image size) from {@code pos_embed}, registers, FFN type and width, LayerScale and biases
 * from the names and shapes. Attention heads cannot be read from shapes: they come from the file's metadata
 * ({@code num_heads}, written by {@code dinoj export}), else from a {@code config.json} beside it (transformers'
 * {@code num_attention_heads}, timm's {@code model_args.num_heads}), else embed-dim / 64 (every released DINOv2 ViT:
 * 384 → 6, 768 → 12, 1024 → 16, 1536 → 24). Position-embedding interpolation follows the metadata, else the released
 * models: offset 0 with antialiasing for register models, offset 0.1 without for the others.
 *
 * <p>{@link #inspect} reads only the header; {@link #read} the tensors, renamed to the hub names.
 */
public final class BackboneFile {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String GIVEN = "given";
    private static final String ASSUMED = "embed-dim / 64 (no num_heads in the metadata or a config.json)";

    private final Path path;
    private final HubMapping mapping;
    private final VitConfig config;
    private final String headsFrom;

    private BackboneFile(Path path, HubMapping mapping, VitConfig config, String headsFrom) {
        this.path = path;
        this.mapping = mapping;
        this.config = config;
        this.headsFrom = headsFrom;
    }

    /** The layout and architecture of a file, from its header. */
    public static BackboneFile inspect(Path file) throws IOException {
        return inspect(file, 0);
    }

    /**
     * The layout and architecture of a file, from its header.
     *
     * @param numHeads attention heads when above 0; 0 = from the metadata, a {@code config.json} beside the file, or
     *     embed-dim / 64
     * @throws IOException the file cannot be read or is not safetensors
     * @throws IllegalArgumentException one line naming the file and the tensor that is missing, unexpected or has a
     *     shape that does not fit
     */
    public static BackboneFile inspect(Path file, int numHeads) throws IOException {
        Safetensors.Header h = Safetensors.header(file);
        return of(file, h.shapes(), h.metadata(), numHeads);
    }

    /** As {@link #inspect}, from a header already read (e.g. a distillation teacher's, which holds heads too). */
    public static BackboneFile of(Path file, Map<String, long[]> shapes, Map<String, String> metadata, int numHeads) {
        HubMapping m = HubMapping.of(file, shapes);
        Map<String, long[]> hub = m.hubShapes();
        int dim = (int) last(require(file, m, hub, "cls_token"));
        long[] patch = require(file, m, hub, "patch_embed.proj.weight");
        if (patch.length != 4 || patch[2] != patch[3] || patch[2] < 1) {
            throw new IllegalArgumentException(file + ": tensor " + m.fileName("patch_embed.proj.weight")
                    + " has shape " + Arrays.toString(patch) + ", not (embed-dim, 3, patch, patch)");
        }
        long[] pos = require(file, m, hub, "pos_embed");
        long grid = pos.length == 3 ? Math.round(Math.sqrt(pos[1] - 1)) : -1;
        if (grid < 1 || grid * grid != pos[1] - 1) {
            throw new IllegalArgumentException(file + ": tensor " + m.fileName("pos_embed") + " has shape "
                    + Arrays.toString(pos) + ", not (1, 1 + grid², embed-dim) of a square grid");
        }
        int depth = depth(hub);
        if (depth == 0) {
            throw new IllegalArgumentException(
                    file + ": missing tensor " + m.fileName("blocks.0.norm1.weight") + " (no transformer blocks)");
        }
        boolean swiglu = hub.containsKey("blocks.0.mlp.w12.weight");
        long[] fc1 = require(file, m, hub, swiglu ? "blocks.0.mlp.w12.weight" : "blocks.0.mlp.fc1.weight");
        int hidden = (int) (swiglu ? fc1[0] / 2 : fc1[0]);
        String[] heads = heads(file, m.layout(), metadata, numHeads, dim); // {count, where from}
        int h = parseInt(file, "num_heads", heads[0]);
        if (h < 1 || dim % h != 0) {
            throw new IllegalArgumentException(
                    file + ": embed-dim " + dim + " is not a multiple of " + h + " attention heads (" + heads[1] + ")");
        }
        FfnType ffn = swiglu ? FfnType.SWIGLU : FfnType.MLP;
        double ratio;
        try {
            ratio = mlpRatio(dim, hidden, ffn);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(
                    file + ": tensor " + m.fileName(swiglu ? "blocks.0.mlp.w12.weight" : "blocks.0.mlp.fc1.weight")
                            + ": " + e.getMessage());
        }
        long[] reg = hub.get("register_tokens"); // (1, R, D); another shape is reported by the check
        int registers = reg == null ? 0 : reg.length == 3 ? (int) reg[1] : 1;
        String ffnBias = swiglu ? "blocks.0.mlp.w12.bias" : "blocks.0.mlp.fc1.bias";
        boolean ls = hub.containsKey("blocks.0.ls1.gamma");
        VitConfig cfg;
        try {
            cfg = new VitConfig(
                    (int) (grid * patch[2]),
                    (int) patch[2],
                    dim,
                    depth,
                    h,
                    ratio,
                    ffn,
                    registers,
                    ls ? layerScaleInit(metadata) : 0,
                    hub.containsKey("blocks.0.attn.qkv.bias"),
                    hub.containsKey("blocks.0.attn.proj.bias"),
                    hub.containsKey(ffnBias),
                    0.0,
                    true,
                    metadata.containsKey("interpolate_offset")
                            ? parseDouble(file, "interpolate_offset", metadata.get("interpolate_offset"))
                            : registers > 0 ? 0.0 : 0.1,
                    metadata.containsKey("interpolate_antialias")
                            ? Boolean.parseBoolean(metadata.get("interpolate_antialias"))
                            : registers > 0);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage());
        }
        BackboneFile f = new BackboneFile(file, m, cfg, heads[1]);
        f.check(cfg);
        return f;
    }

    /**
     * Checks that the file holds exactly the backbone of architecture {@code cfg} (a missing {@code mask_token} is
     * allowed: timm drops it, and it is then zeros, as freshly initialised).
     *
     * @throws IllegalArgumentException one line naming the file and the first tensor that is missing, unexpected or
     *     of another shape
     */
    public void check(VitConfig cfg) {
        Map<String, long[]> want = ModelInit.backboneShapes(cfg);
        Map<String, long[]> have = mapping.hubShapes();
        for (Map.Entry<String, long[]> e : want.entrySet()) {
            long[] got = have.get(e.getKey());
            if (got == null && !e.getKey().equals("mask_token")) {
                throw new IllegalArgumentException(path + ": missing tensor " + mapping.fileName(e.getKey()) + " ("
                        + mapping.layout() + " layout; " + summary(cfg) + ")");
            }
            if (got != null && !Arrays.equals(got, e.getValue())) {
                throw new IllegalArgumentException(path + ": tensor " + mapping.fileName(e.getKey()) + " has shape "
                        + Arrays.toString(got) + " where " + summary(cfg) + " has " + Arrays.toString(e.getValue())
                        + (mapping.parts().get(e.getKey()).from().size() > 1 ? " (stacked)" : ""));
            }
        }
        for (String k : have.keySet()) {
            if (!want.containsKey(k)) {
                throw new IllegalArgumentException(path + ": unexpected tensor " + mapping.fileName(k) + " ("
                        + mapping.layout() + " layout; " + summary(cfg) + " has no " + k + ")");
            }
        }
    }

    /** The file. */
    public Path path() {
        return path;
    }

    /** The layout its names are in. */
    public WeightLayout layout() {
        return mapping.layout();
    }

    /** The architecture its tensors imply (drop-path 0: set by whoever trains it). */
    public VitConfig config() {
        return config;
    }

    /** Whether the file has a {@code mask_token} (timm's files have none). */
    public boolean hasMaskToken() {
        return mapping.parts().containsKey("mask_token");
    }

    /** Where the number of attention heads came from: given, the metadata, config.json or embed-dim / 64. */
    public String headsFrom() {
        return headsFrom;
    }

    /** Whether the heads were stated (given, metadata, config.json) rather than assumed (embed-dim / 64). */
    public boolean headsStated() {
        return !headsFrom.equals(ASSUMED);
    }

    /**
     * Reads the tensors, in the hub names and the official order of {@code cfg} (the file's architecture or one
     * {@link #check} accepted): {@code mask_token} is zeros when the file has none.
     */
    public Map<String, NpyArray> read(VitConfig cfg) throws IOException {
        return tensors(Safetensors.read(path).tensors(), cfg);
    }

    /** As {@link #read}, from the file's tensors already read (all of them, under their own names). */
    public Map<String, NpyArray> tensors(Map<String, NpyArray> file, VitConfig cfg) {
        check(cfg);
        Map<String, NpyArray> hub = mapping.apply(file);
        Map<String, NpyArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : ModelInit.backboneShapes(cfg).entrySet()) {
            NpyArray t = hub.get(e.getKey());
            out.put(
                    e.getKey(),
                    t != null
                            ? t
                            : NpyArray.ofFloats(
                                    e.getKey(), e.getValue(), new float[(int) NpyArray.numel(e.getValue())]));
        }
        return out;
    }

    /** One line: file, layout and architecture. */
    public String describe() {
        return path + " (" + mapping.layout() + " layout): " + summary(config) + ", " + config.numHeads()
                + " heads from " + headsFrom;
    }

    /** E.g. {@code ViT 384×12, patch 14, 518 px (37×37 positions), 4 registers, SwiGLU 4096}. */
    static String summary(VitConfig c) {
        return String.format(
                Locale.ROOT,
                "ViT %d×%d, patch %d, %d px (%d×%d positions)%s, %s %d%s",
                c.embedDim(),
                c.depth(),
                c.patchSize(),
                c.imgSize(),
                c.gridSize(),
                c.gridSize(),
                c.numRegisterTokens() > 0 ? ", " + c.numRegisterTokens() + " registers" : "",
                c.ffn() == FfnType.MLP ? "MLP" : "SwiGLU",
                c.ffnHiddenDim(),
                c.layerScale() ? ", LayerScale" : "");
    }

    private static long[] require(Path file, HubMapping m, Map<String, long[]> hub, String name) {
        long[] s = hub.get(name);
        if (s == null) {
            throw new IllegalArgumentException(
                    file + ": missing tensor " + m.fileName(name) + " (" + m.layout() + " layout)");
        }
        if (s.length == 0) {
            throw new IllegalArgumentException(file + ": tensor " + m.fileName(name) + " is a scalar");
        }
        return s;
    }

    private static long last(long[] shape) {
        return shape[shape.length - 1];
    }

    /** 1 + the largest block index among the hub names (a gap is reported as a missing tensor by the check). */
    private static int depth(Map<String, long[]> hub) {
        int depth = 0;
        for (String k : hub.keySet()) {
            if (k.startsWith("blocks.")) {
                int dot = k.indexOf('.', 7);
                try {
                    depth = Math.max(depth, 1 + Integer.parseInt(k.substring(7, dot < 0 ? k.length() : dot)));
                } catch (NumberFormatException e) {
                    // not a block index: the check reports the tensor as unexpected
                }
            }
        }
        return depth;
    }

    /**
     * The attention heads and where they came from: {@code numHeads} when above 0, the metadata's {@code num_heads},
     * a {@code config.json} beside a transformers or timm file (as both publish them; used only when it describes a
     * model of this width), else embed-dim / 64.
     */
    private static String[] heads(Path file, WeightLayout layout, Map<String, String> metadata, int numHeads, int dim) {
        if (numHeads > 0) {
            return new String[] {Integer.toString(numHeads), GIVEN};
        }
        if (metadata.containsKey("num_heads")) {
            return new String[] {metadata.get("num_heads"), "the metadata's num_heads"};
        }
        Path side = file.toAbsolutePath().resolveSibling("config.json");
        if (layout != WeightLayout.DINOV2 && Files.isRegularFile(side)) {
            try {
                JsonNode c = JSON.readTree(side.toFile());
                boolean hf = layout == WeightLayout.TRANSFORMERS;
                JsonNode heads = hf
                        ? c.path("num_attention_heads")
                        : c.path("model_args").path("num_heads");
                JsonNode width = hf ? c.path("hidden_size") : c.path("num_features");
                if (heads.isInt() && (width.isMissingNode() || width.asInt() == dim)) {
                    return new String[] {
                        heads.asText(), side + " " + (hf ? "num_attention_heads" : "model_args.num_heads")
                    };
                }
            } catch (IOException e) {
                // not JSON: not this model's config; the heads fall back to embed-dim / 64
            }
        }
        return new String[] {Integer.toString(dim % 64 == 0 && dim > 0 ? dim / 64 : 1), ASSUMED};
    }

    /** An mlp-ratio whose rule ({@link FfnType#hiddenDim}) gives {@code hidden} (4 when it does). */
    static double mlpRatio(int dim, int hidden, FfnType ffn) {
        if (ffn.hiddenDim(dim, 4.0) == hidden) {
            return 4.0;
        }
        if (ffn == FfnType.MLP) {
            double r = (double) hidden / dim;
            for (int i = 0; i < 4 && ffn.hiddenDim(dim, r) < hidden; i++) {
                r = Math.nextUp(r);
            }
            if (ffn.hiddenDim(dim, r) == hidden) {
                return r;
            }
        } else {
            for (int h = 1; h <= 16 * dim; h++) {
                if (ffn.hiddenDim(dim, (double) h / dim) == hidden) {
                    return (double) h / dim;
                }
            }
        }
        throw new IllegalArgumentException("no mlp-ratio gives a " + ffn + " hidden width of " + hidden + " at width "
                + dim + " (the SwiGLU width is a multiple of 8)");
    }

    private static double layerScaleInit(Map<String, String> metadata) {
        try {
            double v = Double.parseDouble(metadata.getOrDefault("init_values", "1e-5"));
            return v > 0 && v <= 10 ? v : 1e-5;
        } catch (NumberFormatException e) {
            return 1e-5; // only the presence of LayerScale matters for a loaded model
        }
    }

    private static int parseInt(Path file, String key, String v) {
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(file + ": metadata " + key + " = " + v + " is not an integer");
        }
    }

    private static double parseDouble(Path file, String key, String v) {
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(file + ": metadata " + key + " = " + v + " is not a number");
        }
    }
}
