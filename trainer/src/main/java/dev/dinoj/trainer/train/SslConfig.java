package dev.dinoj.trainer.train;

import dev.dinoj.trainer.model.HeadConfig;
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
 */
public record SslConfig(VitConfig backbone, HeadConfig dinoHead, HeadConfig ibotHead, int nLocalCrops,
                        double dinoLossWeight, double koleoLossWeight, double ibotLossWeight, Centering centering,
                        double studentTemp, double centerMomentum, double clipGrad, double layerwiseDecay,
                        double patchEmbedLrMult, double adamBeta1, double adamBeta2) {

    public SslConfig {
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
