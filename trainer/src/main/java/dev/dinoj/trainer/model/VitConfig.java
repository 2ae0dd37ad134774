package dev.dinoj.trainer.model;

/**
 * Architecture of a {@code DinoVisionTransformer} (dinov2/models/vision_transformer.py).
 *
 * @param imgSize              training image size the learned position embedding is made for (dinov2: global crop size)
 * @param patchSize            patch side in pixels
 * @param embedDim             token width
 * @param depth                number of blocks
 * @param numHeads             attention heads
 * @param mlpRatio             FFN hidden ratio (before the SwiGLU 2/3 rule)
 * @param ffn                  FFN type
 * @param numRegisterTokens    extra "register" tokens inserted after the position embedding
 * @param layerScaleInit       LayerScale initial value; 0 disables LayerScale (no {@code ls1/ls2.gamma})
 * @param qkvBias              bias on the fused qkv projection
 * @param projBias             bias on the attention output projection
 * @param ffnBias              biases in the FFN
 * @param dropPathRate         stochastic depth rate
 * @param dropPathUniform      same rate in every block (dinov2 default for training) instead of linear 0→rate
 * @param interpolateOffset    dinov2 {@code interpolate_offset} (0.1 official; 0 → interpolate to the exact size)
 * @param interpolateAntialias dinov2 {@code interpolate_antialias}
 */
public record VitConfig(
        int imgSize,
        int patchSize,
        int embedDim,
        int depth,
        int numHeads,
        double mlpRatio,
        FfnType ffn,
        int numRegisterTokens,
        double layerScaleInit,
        boolean qkvBias,
        boolean projBias,
        boolean ffnBias,
        double dropPathRate,
        boolean dropPathUniform,
        double interpolateOffset,
        boolean interpolateAntialias) {

    public VitConfig {
        require(patchSize > 0, "patch-size must be > 0");
        require(
                imgSize >= patchSize && imgSize % patchSize == 0,
                "image size " + imgSize + " must be a positive multiple of the patch size " + patchSize);
        require(
                embedDim > 0 && numHeads > 0 && embedDim % numHeads == 0,
                "embed-dim " + embedDim + " must be a positive multiple of num-heads " + numHeads);
        require(depth > 0, "depth must be > 0");
        require(mlpRatio > 0, "mlp-ratio must be > 0");
        require(numRegisterTokens >= 0, "num-register-tokens must be >= 0");
        require(layerScaleInit >= 0, "layerscale must be >= 0 (0 disables it)");
        require(dropPathRate >= 0 && dropPathRate < 1, "drop-path-rate must be in [0, 1)");
        require(interpolateOffset >= 0 && interpolateOffset < 1, "interpolate-offset must be in [0, 1)");
    }

    private static void require(boolean ok, String msg) {
        if (!ok) {
            throw new IllegalArgumentException(msg);
        }
    }

    /** Patches per side at the training size. */
    public int gridSize() {
        return imgSize / patchSize;
    }

    public int headDim() {
        return embedDim / numHeads;
    }

    public int ffnHiddenDim() {
        return ffn.hiddenDim(embedDim, mlpRatio);
    }

    public boolean layerScale() {
        return layerScaleInit > 0;
    }

    /** Drop-path rate of block {@code i} (uniform, or dinov2's linear decay rule). */
    public double dropPath(int block) {
        if (dropPathUniform || depth == 1) {
            return dropPathRate;
        }
        return dropPathRate * block / (depth - 1);
    }

    public VitConfig withImgSize(int size) {
        return new VitConfig(
                size,
                patchSize,
                embedDim,
                depth,
                numHeads,
                mlpRatio,
                ffn,
                numRegisterTokens,
                layerScaleInit,
                qkvBias,
                projBias,
                ffnBias,
                dropPathRate,
                dropPathUniform,
                interpolateOffset,
                interpolateAntialias);
    }

    /**
     * The official size presets ({@code vit_small/base/large/giant2} as in dinov2/models/vision_transformer.py) and
     * tiny presets a CPU can train: {@code vit_tiny} (192×6, 3 heads; the anchor preset) and {@code vit_pico}
     * (64×2, 4 heads; for unit tests), {@code vit_nano} (32×2, 2 heads; the student of the distillation test).
     */
    public static VitConfig preset(String name, int imgSize, int patchSize) {
        switch (name) {
            case "vit_nano":
                return base(imgSize, patchSize, 32, 2, 2, FfnType.MLP);
            case "vit_pico":
                return base(imgSize, patchSize, 64, 2, 4, FfnType.MLP);
            case "vit_tiny":
                return base(imgSize, patchSize, 192, 6, 3, FfnType.MLP);
            case "vit_small":
                return base(imgSize, patchSize, 384, 12, 6, FfnType.MLP);
            case "vit_base":
                return base(imgSize, patchSize, 768, 12, 12, FfnType.MLP);
            case "vit_large":
                return base(imgSize, patchSize, 1024, 24, 16, FfnType.MLP);
            case "vit_giant2":
                return base(imgSize, patchSize, 1536, 40, 24, FfnType.SWIGLU);
            default:
                throw new IllegalArgumentException("unknown architecture '" + name
                        + "': use vit_nano, vit_pico, vit_tiny, vit_small, vit_base, vit_large or vit_giant2");
        }
    }

    private static VitConfig base(int imgSize, int patchSize, int dim, int depth, int heads, FfnType ffn) {
        return new VitConfig(
                imgSize, patchSize, dim, depth, heads, 4.0, ffn, 0, 1e-5, true, true, true, 0.0, true, 0.1, false);
    }
}
