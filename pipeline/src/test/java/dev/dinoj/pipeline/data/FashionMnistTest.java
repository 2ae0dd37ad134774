package dev.dinoj.pipeline.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.pipeline.augment.MultiCropAugmentation;
import dev.dinoj.pipeline.augment.MultiCropConfig;
import dev.dinoj.pipeline.loader.BatchLoader;
import dev.dinoj.pipeline.loader.EpochSampler;
import dev.dinoj.pipeline.masking.CollatedBatch;
import dev.dinoj.pipeline.masking.Collator;
import dev.dinoj.pipeline.masking.MaskingGenerator;
import dev.dinoj.testkit.FashionMnist;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Reads (and feeds a loader from) the real Fashion-MNIST files when present: the Debian package {@code dataset-fashion-mnist}, or the
 * directory in system property {@code dinoj.fashionMnist.dir} ({@link FashionMnist}). Skipped otherwise.
 */
class FashionMnistTest {
    /** The tiny preset of the anchor figures (2 x 32 px + 6 x 16 px crops, batch 64) on 2 threads. */
    @Test
    void shouldFeedTinyPresetBatchesFast() {
        Path dir = FashionMnist.assumeInstalled();
        IdxDataset train = IdxDataset.fashionMnist(dir, true);
        var augmentation = new MultiCropAugmentation(MultiCropConfig.official(32, 6, 16));
        var collator = Collator.official(MaskingGenerator.forGlobalCrops(32, 4));
        int batches = 30;
        try (var loader =
                new BatchLoader(train, augmentation, collator, new EpochSampler(train.size(), 0), 64, 0, 2, 4)) {
            loader.next(); // warm-up
            long t0 = System.nanoTime();
            for (int i = 0; i < batches; i++) {
                CollatedBatch b = loader.next();
                assertEquals(2 * 64 * 3 * 32 * 32, b.globalCrops().length);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf(
                    "BatchLoader Fashion-MNIST tiny preset, 2 threads: %.0f images/s (%.2f ms per batch of 64)%n",
                    batches * 64 / seconds, seconds * 1000 / batches);
        }
    }

    @Test
    void shouldReadTheTrainingSet() {
        Path dir = FashionMnist.assumeInstalled();
        IdxDataset train = IdxDataset.fashionMnist(dir, true);
        assertEquals(60000, train.size());
        assertEquals(10, train.numClasses());
        int[] perClass = new int[10];
        for (int i = 0; i < train.size(); i++) {
            int label = train.label(i);
            assertTrue(label >= 0 && label < 10, "label " + label + " at " + i);
            perClass[label]++;
        }
        for (int count : perClass) {
            assertEquals(6000, count); // Fashion-MNIST is balanced
        }
        RgbImage first = train.image(0);
        assertEquals(28, first.width());
        assertEquals(28, first.height());
        RgbImage last = train.image(59999);
        assertEquals(28, last.width());
        assertEquals(10000, IdxDataset.fashionMnist(dir, false).size());
    }
}
