package dev.dinoj.trainer.train;

import ai.djl.ndarray.NDManager;
import dev.dinoj.pipeline.augment.MultiCropAugmentation;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.loader.BatchLoader;
import dev.dinoj.pipeline.loader.EpochSampler;
import dev.dinoj.pipeline.masking.CollatedBatch;
import dev.dinoj.pipeline.masking.Collator;
import dev.dinoj.pipeline.masking.MaskingGenerator;
import dev.dinoj.trainer.config.TrainSettings;

/** Batches for step-level tests. */
final class TestBatches {

    private TestBatches() {}

    /** The first batch of a settings' crops over {@code data}, every global crop masked (probability 1), on the device. */
    static StepBatch first(TrainSettings s, NDManager m, ImageDataset data) throws Exception {
        var crops = s.crops().multiCrop(false);
        Collator collator = new Collator(
                0.1,
                0.5,
                1.0,
                MaskingGenerator.forGlobalCrops(
                        crops.globalCropsSize(), s.ssl().backbone().patchSize()));
        try (BatchLoader loader = new BatchLoader(
                data,
                new MultiCropAugmentation(crops),
                collator,
                new EpochSampler(data.size(), 0),
                s.batchSize(),
                0,
                1,
                1)) {
            CollatedBatch cb = loader.next();
            return StepBatch.of(m, cb);
        }
    }
}
