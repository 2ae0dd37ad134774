package dev.dinoj.trainer.config;

import dev.dinoj.trainer.loss.Centering;
import dev.dinoj.trainer.model.AttentionKernel;
import dev.dinoj.trainer.model.Compute;
import dev.dinoj.trainer.model.FfnType;
import dev.dinoj.trainer.model.HeadConfig;
import dev.dinoj.trainer.model.Precision;
import dev.dinoj.trainer.model.VitConfig;

/**
 * Everything the DINOv2 step needs besides schedules (dinov2 SSLMetaArch + optim settings).
 *
 * @param backbone         student/teacher architecture
 * @param dinoHead         DINO head
 * @param ibotHead         separate iBOT head, or null when iBOT shares the DINO head
 * @param nLocalCrops      local crops per image
 * @param dinoLossWeight   {@code dino.loss_weight} (0 disables DINO and KoLeo)
 * @param koleoLossWeight  {@code dino.koleo_loss_weight}
 * @param ibotLossWeight   {@code ibot.loss_weight} (0 disables iBOT)
 * @param centering        teacher centering
 * @param studentTemp      student temperature (0.1)
 * @param centerMomentum   EMA momentum of the softmax centers (0.9)
 * @param clipGrad         max gradient norm per submodule (0 disables)
 * @param layerwiseDecay   {@code optim.layerwise_decay}
 * @param patchEmbedLrMult {@code optim.patch_embed_lr_mult}
 * @param adamBeta1        AdamW β1
 * @param adamBeta2        AdamW β2
 * @param compute          number format and attention kernel ({@code train.precision}, {@code model.attention})
 */
public record SslConfig(
        VitConfig backbone,
        HeadConfig dinoHead,
        HeadConfig ibotHead,
        int nLocalCrops,
        double dinoLossWeight,
        double koleoLossWeight,
        double ibotLossWeight,
        Centering centering,
        double studentTemp,
        double centerMomentum,
        double clipGrad,
        double layerwiseDecay,
        double patchEmbedLrMult,
        double adamBeta1,
        double adamBeta2,
        Compute compute) {

    /** A configuration with the default {@link Compute} (float32, fused attention). */
    public SslConfig(
            VitConfig backbone,
            HeadConfig dinoHead,
            HeadConfig ibotHead,
            int nLocalCrops,
            double dinoLossWeight,
            double koleoLossWeight,
            double ibotLossWeight,
            Centering centering,
            double studentTemp,
            double centerMomentum,
            double clipGrad,
            double layerwiseDecay,
            double patchEmbedLrMult,
            double adamBeta1,
            double adamBeta2) {
        this(
                backbone,
                dinoHead,
                ibotHead,
                nLocalCrops,
                dinoLossWeight,
                koleoLossWeight,
                ibotLossWeight,
                centering,
                studentTemp,
                centerMomentum,
                clipGrad,
                layerwiseDecay,
                patchEmbedLrMult,
                adamBeta1,
                adamBeta2,
                Compute.DEFAULT);
    }

    public SslConfig {
        if (compute == null) {
            throw new IllegalArgumentException("compute must be set");
        }
        if (nLocalCrops < 0) {
            throw new IllegalArgumentException("local-crops-number must be >= 0");
        }
        if (dinoLossWeight < 0 || koleoLossWeight < 0 || ibotLossWeight < 0) {
            throw new IllegalArgumentException("loss weights must be >= 0");
        }
        if (dinoLossWeight == 0 && ibotLossWeight == 0) {
            throw new IllegalArgumentException("at least one of dino.loss-weight and ibot.loss-weight must be > 0");
        }
        if (dinoHead.inDim() != backbone.embedDim() || (ibotHead != null && ibotHead.inDim() != backbone.embedDim())) {
            throw new IllegalArgumentException("head in-dim must equal the backbone embed-dim " + backbone.embedDim());
        }
    }

    /** The model, loss and optimiser sections ({@code dinoj.model|dino|ibot|optim}, {@code train.centering}). */
    static SslConfig from(ConfigReader r) {
        String arch = r.string("dinoj.model.arch");
        VitConfig preset;
        try {
            preset = VitConfig.preset(
                    arch,
                    r.intAt("dinoj.crops.global-crops-size", 1, Bounds.CROP_SIDE),
                    r.intAt("dinoj.model.patch-size", 1, Bounds.PATCH));
        } catch (IllegalArgumentException e) {
            throw new ConfigError("dinoj.model.arch / crops.global-crops-size / model.patch-size: " + e.getMessage());
        }
        // sizes between the presets: width, depth and heads each override the arch's when above 0
        int embedDim = r.intAt("dinoj.model.embed-dim", 0, Bounds.EMBED_DIM);
        int depth = r.intAt("dinoj.model.depth", 0, Bounds.DEPTH);
        int heads = r.intAt("dinoj.model.num-heads", 0, Bounds.HEADS);
        embedDim = embedDim > 0 ? embedDim : preset.embedDim();
        heads = heads > 0 ? heads : preset.numHeads();
        if (embedDim % heads != 0) {
            throw new ConfigError("dinoj.model.embed-dim / num-heads: the width " + embedDim
                    + " must be a multiple of the heads " + heads + " (arch " + arch + ")");
        }
        VitConfig vit;
        try {
            vit = new VitConfig(
                    preset.imgSize(),
                    preset.patchSize(),
                    embedDim,
                    depth > 0 ? depth : preset.depth(),
                    heads,
                    preset.mlpRatio(),
                    FfnType.parse(r.string("dinoj.model.ffn-layer")),
                    r.intAt("dinoj.model.num-register-tokens", 0, Bounds.REGISTERS),
                    r.doubleAt("dinoj.model.layerscale", 0, 10),
                    r.bool("dinoj.model.qkv-bias"),
                    r.bool("dinoj.model.proj-bias"),
                    r.bool("dinoj.model.ffn-bias"),
                    r.doubleAt("dinoj.model.drop-path-rate", 0, 0.99),
                    r.bool("dinoj.model.drop-path-uniform"),
                    r.doubleAt("dinoj.model.interpolate-offset", 0, 0.99),
                    r.bool("dinoj.model.interpolate-antialias"));
        } catch (ConfigError e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ConfigError("dinoj.model: " + e.getMessage());
        }
        if (r.config().getDouble("dinoj.dino.loss-weight") == 0
                && r.config().getDouble("dinoj.ibot.loss-weight") == 0) {
            throw new ConfigError("dinoj.dino.loss-weight and dinoj.ibot.loss-weight are both 0: nothing to train; "
                    + "set at least one of them > 0");
        }
        HeadConfig dino = head(r, "dinoj.dino", vit.embedDim());
        HeadConfig ibot = r.bool("dinoj.ibot.separate-head") ? head(r, "dinoj.ibot", vit.embedDim()) : null;
        Centering centering;
        try {
            centering = Centering.parse(r.string("dinoj.train.centering"));
        } catch (IllegalArgumentException e) {
            throw new ConfigError("dinoj.train.centering: " + e.getMessage());
        }
        Precision precision;
        try {
            boolean gpu = r.config().hasPath("dinoj.device")
                    && r.string("dinoj.device")
                            .toLowerCase(java.util.Locale.ROOT)
                            .startsWith("cuda");
            precision = Precision.parse(r.string("dinoj.train.precision"), gpu);
        } catch (IllegalArgumentException e) {
            throw new ConfigError("dinoj.train.precision: " + e.getMessage());
        }
        AttentionKernel attention;
        try {
            attention = AttentionKernel.parse(r.string("dinoj.model.attention"));
        } catch (IllegalArgumentException e) {
            throw new ConfigError("dinoj.model.attention: " + e.getMessage());
        }
        return new SslConfig(
                vit,
                dino,
                ibot,
                r.intAt("dinoj.crops.local-crops-number", 0, Bounds.LOCAL_CROPS),
                r.doubleAt("dinoj.dino.loss-weight", 0, 1e6),
                r.doubleAt("dinoj.dino.koleo-loss-weight", 0, 1e6),
                r.doubleAt("dinoj.ibot.loss-weight", 0, 1e6),
                centering,
                0.1,
                0.9,
                r.doubleAt("dinoj.optim.clip-grad", 0, 1e9),
                r.doubleAt("dinoj.optim.layerwise-decay", 0, 1),
                r.doubleAt("dinoj.optim.patch-embed-lr-mult", 0, 1e3),
                r.doubleAt("dinoj.optim.adamw-beta1", 0, 0.999999),
                r.doubleAt("dinoj.optim.adamw-beta2", 0, 0.999999999),
                new Compute(precision, attention));
    }

    /** The same step computed another way (e.g. {@code verify-reference --precision bf16}, the bench comparison). */
    public SslConfig withCompute(Compute c) {
        return new SslConfig(
                backbone,
                dinoHead,
                ibotHead,
                nLocalCrops,
                dinoLossWeight,
                koleoLossWeight,
                ibotLossWeight,
                centering,
                studentTemp,
                centerMomentum,
                clipGrad,
                layerwiseDecay,
                patchEmbedLrMult,
                adamBeta1,
                adamBeta2,
                c);
    }

    private static HeadConfig head(ConfigReader r, String p, int inDim) {
        return new HeadConfig(
                inDim,
                r.intAt(p + ".head-n-prototypes", 1, Bounds.PROTOTYPES),
                r.intAt(p + ".head-hidden-dim", 1, Bounds.HEAD_HIDDEN),
                r.intAt(p + ".head-bottleneck-dim", 1, Bounds.HEAD_BOTTLENECK),
                r.intAt(p + ".head-nlayers", 1, Bounds.HEAD_LAYERS));
    }

    public boolean separateIbotHead() {
        return ibotHead != null;
    }

    public boolean doDino() {
        return dinoLossWeight > 0;
    }

    public boolean doKoleo() {
        return doDino() && koleoLossWeight > 0;
    }

    public boolean doIbot() {
        return ibotLossWeight > 0;
    }

    /** Prototypes of the head that scores masked patches. */
    public int ibotPrototypes() {
        return separateIbotHead() ? ibotHead.prototypes() : dinoHead.prototypes();
    }
}
