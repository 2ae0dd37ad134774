package dev.dinoj.trainer.train;

import dev.dinoj.pipeline.augment.MultiCropAugmentation;
import dev.dinoj.pipeline.augment.MultiCropConfig;
import dev.dinoj.pipeline.masking.Collator;
import dev.dinoj.pipeline.masking.MaskingGenerator;
import dev.dinoj.trainer.config.TrainSettings;

/**
 * How a batch of a phase is made, as dinov2's {@code setup_dataloader} does: the multi-crop augmentation of the phase
 * (normal or high-resolution) and the collator that masks the global crops' patches for iBOT. Every way of training
 * (one process, the ranks of {@code --ranks N}, a cluster worker) and the benches build their batches from it.
 *
 * @param crops    the phase's crop sizes, scales and photometric probabilities
 * @param collator stacks the crops and draws the iBOT masks
 */
public record BatchRecipe(MultiCropConfig crops, Collator collator) {

    /** The recipe of the phase that {@code step} is in. */
    public static BatchRecipe at(TrainSettings s, long step) {
        return of(s, s.crops().highResAt(step));
    }

    /** The recipe of the normal phase ({@code highRes = false}) or of the high-resolution phase. */
    public static BatchRecipe of(TrainSettings s, boolean highRes) {
        MultiCropConfig crops = s.crops().multiCrop(highRes);
        Collator collator = new Collator(
                s.masks().ratioMin(),
                s.masks().ratioMax(),
                s.masks().sampleProbability(),
                MaskingGenerator.forGlobalCrops(
                        crops.globalCropsSize(), s.ssl().backbone().patchSize()));
        return new BatchRecipe(crops, collator);
    }

    /** A new augmentation of this recipe (stateless apart from its configuration; one per loader). */
    public MultiCropAugmentation augmentation() {
        return new MultiCropAugmentation(crops);
    }
}
