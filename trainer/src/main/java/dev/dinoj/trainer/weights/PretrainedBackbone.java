package dev.dinoj.trainer.weights;

import dev.dinoj.trainer.config.ConfigError;
import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.model.FfnType;
import dev.dinoj.trainer.model.ParamSet;
import dev.dinoj.trainer.model.PosEmbedInterpolation;
import dev.dinoj.trainer.model.VitConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Starting a run from published weights ({@code model.pretrained-weights}): a backbone file in any layout
 * ({@link BackboneFile}) replaces a freshly initialised backbone before step 0; the heads stay fresh. The run's model
 * configuration decides the architecture, and the file must be of that architecture: width, depth, heads (when the
 * file states them), patch, registers, FFN type and width, LayerScale and biases; anything else stops with one line
 * naming the setting. Only the position grid may differ: {@code pos_embed} is resampled to the run's grid (the global
 * crop size) as the file's model would interpolate it at that size, so at the global crop size the loaded backbone
 * computes what the file's model computes. A file without a {@code mask_token} (timm) keeps the fresh one (zeros).
 */
public final class PretrainedBackbone {

    private PretrainedBackbone() {}

    /**
     * {@link #loadInto} for a run: nothing when {@code file} is null, and any failure as one {@link ConfigError}
     * naming {@code model.pretrained-weights}.
     */
    public static void startFrom(ParamSet params, String prefix, VitConfig run, Path file) {
        if (file == null) {
            return;
        }
        try {
            loadInto(params, prefix, run, file);
        } catch (IOException | RuntimeException e) {
            throw new ConfigError("dinoj.model.pretrained-weights: " + e.getMessage());
        }
    }

    /**
     * Overwrites the backbone parameters {@code prefix + name} of {@code params} (architecture {@code run}) with the
     * file's.
     *
     * @return the file, for the log
     * @throws IllegalArgumentException one line naming the file and what does not match
     */
    public static BackboneFile loadInto(ParamSet params, String prefix, VitConfig run, Path file) throws IOException {
        BackboneFile f = BackboneFile.inspect(file);
        VitConfig have = f.config();
        String mismatch = mismatch(have, run, f.headsStated());
        if (mismatch != null) {
            throw new IllegalArgumentException(
                    file + " (" + f.layout() + " layout) does not fit the run's model: " + mismatch);
        }
        VitConfig asFile = run.withImgSize(have.imgSize()); // the run's heads when the file states none
        Map<String, NpyArray> tensors = f.read(asFile);
        for (Map.Entry<String, NpyArray> e : tensors.entrySet()) {
            if (e.getKey().equals("mask_token") && !f.hasMaskToken()) {
                continue;
            }
            float[] data = e.getKey().equals("pos_embed")
                    ? resample(e.getValue().asFloats(), have, run.gridSize())
                    : e.getValue().asFloats();
            params.get(prefix + e.getKey()).set(data);
        }
        return f;
    }

    /** The first architecture difference that stops the load, as "setting: run's value, file's value", or null. */
    static String mismatch(VitConfig file, VitConfig run, boolean headsStated) {
        if (file.embedDim() != run.embedDim() || file.depth() != run.depth()) {
            return "dinoj.model.arch gives a ViT " + run.embedDim() + "×" + run.depth() + ", the file holds a ViT "
                    + file.embedDim() + "×" + file.depth() + presetHint(file);
        }
        if (headsStated && file.numHeads() != run.numHeads()) {
            return "dinoj.model.arch has " + run.numHeads() + " attention heads, the file's model " + file.numHeads();
        }
        if (file.patchSize() != run.patchSize()) {
            return "dinoj.model.patch-size = " + run.patchSize() + ", the file's patch is " + file.patchSize();
        }
        if (file.numRegisterTokens() != run.numRegisterTokens()) {
            return "dinoj.model.num-register-tokens = " + run.numRegisterTokens() + ", the file has "
                    + file.numRegisterTokens();
        }
        if (file.ffn() != run.ffn()) {
            return "dinoj.model.ffn-layer = " + ffnName(run.ffn()) + ", the file's is " + ffnName(file.ffn());
        }
        if (file.ffnHiddenDim() != run.ffnHiddenDim()) {
            return "the FFN hidden width of dinoj.model.arch is " + run.ffnHiddenDim() + ", the file's "
                    + file.ffnHiddenDim();
        }
        if (file.layerScale() != run.layerScale()) {
            return "dinoj.model.layerscale = " + run.layerScaleInit() + (run.layerScale() ? "" : " (off)")
                    + ", the file " + (file.layerScale() ? "has" : "has no") + " LayerScale";
        }
        String[][] biases = {
            {"qkv-bias", Boolean.toString(run.qkvBias()), Boolean.toString(file.qkvBias())},
            {"proj-bias", Boolean.toString(run.projBias()), Boolean.toString(file.projBias())},
            {"ffn-bias", Boolean.toString(run.ffnBias()), Boolean.toString(file.ffnBias())}
        };
        for (String[] b : biases) {
            if (!b[1].equals(b[2])) {
                return "dinoj.model." + b[0] + " = " + b[1] + ", the file " + (b[2].equals("true") ? "has" : "has no")
                        + " such biases";
            }
        }
        return null;
    }

    /**
     * dinov2's {@code interpolate_pos_encoding} of the file's (1, 1 + M², D) position embedding at a {@code grid}²
     * input, with the file model's interpolation settings: (1, 1 + grid², D).
     */
    static float[] resample(float[] pos, VitConfig file, int grid) {
        int m = file.gridSize();
        int d = file.embedDim();
        if (m == grid) {
            return pos;
        }
        float[] k = PosEmbedInterpolation.matrix(m, grid, grid, file.interpolateOffset(), file.interpolateAntialias());
        int n = m * m;
        float[] out = new float[(1 + grid * grid) * d];
        System.arraycopy(pos, 0, out, 0, d); // the CLS slot
        double[] acc = new double[d];
        for (int i = 0; i < grid * grid; i++) {
            Arrays.fill(acc, 0);
            for (int j = 0; j < n; j++) {
                float w = k[i * n + j];
                if (w != 0) {
                    int src = (1 + j) * d;
                    for (int c = 0; c < d; c++) {
                        acc[c] += w * pos[src + c];
                    }
                }
            }
            int dst = (1 + i) * d;
            for (int c = 0; c < d; c++) {
                out[dst + c] = (float) acc[c];
            }
        }
        return out;
    }

    private static String presetHint(VitConfig file) {
        for (String p :
                List.of("vit_nano", "vit_pico", "vit_tiny", "vit_small", "vit_base", "vit_large", "vit_giant2")) {
            VitConfig c = VitConfig.preset(p, file.patchSize(), file.patchSize());
            if (c.embedDim() == file.embedDim() && c.depth() == file.depth()) {
                return " (dinoj.model.arch = " + p + ")";
            }
        }
        return "";
    }

    private static String ffnName(FfnType f) {
        return f == FfnType.MLP ? "mlp" : "swiglufused";
    }
}
