package dev.dinoj.pipeline.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.pipeline.augment.MultiCropAugmentation;
import dev.dinoj.pipeline.augment.MultiCropConfig;
import dev.dinoj.pipeline.data.DatasetException;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.masking.CollatedBatch;
import dev.dinoj.pipeline.masking.Collator;
import dev.dinoj.pipeline.masking.MaskingGenerator;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class BatchLoaderTest {
    private static final int BATCH = 6;
    private static final long SEED = 2024;
    private static final MultiCropAugmentation AUGMENTATION =
            new MultiCropAugmentation(MultiCropConfig.official(32, 2, 16));
    private static final Collator COLLATOR = Collator.official(MaskingGenerator.forGlobalCrops(32, 4));

    /** 40 random 28x28 images; image {@code failAt} (if >= 0) cannot be decoded; each takes {@code delayMs}. */
    private record SyntheticDataset(int failAt, long delayMs) implements ImageDataset {
        SyntheticDataset(int failAt) {
            this(failAt, 0);
        }

        @Override
        public int size() {
            return 40;
        }

        @Override
        public RgbImage image(int index) {
            if (index == failAt) {
                throw new DatasetException("synthetic/" + index + ".png: cannot be decoded; replace it");
            }
            if (delayMs > 0) {
                try {
                    Thread.sleep(delayMs);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted", e);
                }
            }
            SplittableRandom rng = new SplittableRandom(index);
            float[] chw = new float[3 * 28 * 28];
            for (int i = 0; i < chw.length; i++) {
                chw[i] = rng.nextInt(256) / 255f;
            }
            return new RgbImage(28, 28, chw);
        }

        @Override
        public int label(int index) {
            return index % 10;
        }

        @Override
        public int numClasses() {
            return 10;
        }

        @Override
        public String describe() {
            return "synthetic 40 images 28x28";
        }
    }

    private static BatchLoader loader(long startPosition, int threads, int prefetch) {
        EpochSampler sampler = new EpochSampler(40, SEED);
        sampler.seek(startPosition);
        return new BatchLoader(
                new SyntheticDataset(-1), AUGMENTATION, COLLATOR, sampler, BATCH, SEED, threads, prefetch);
    }

    private static List<CollatedBatch> take(BatchLoader loader, int n) {
        List<CollatedBatch> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(loader.next());
        }
        return out;
    }

    private static void assertSameBatch(CollatedBatch a, CollatedBatch b) {
        assertArrayEquals(a.globalCrops(), b.globalCrops());
        assertArrayEquals(a.localCrops(), b.localCrops());
        assertArrayEquals(a.masks(), b.masks());
        assertArrayEquals(a.maskIndices(), b.maskIndices());
        assertArrayEquals(a.masksWeight(), b.masksWeight());
        assertEquals(a.upperbound(), b.upperbound());
        assertEquals(a.nMaskedPatches(), b.nMaskedPatches());
    }

    @Test
    void shouldProduceTheSameBatchesForAnyThreadCount() {
        List<CollatedBatch> one;
        List<CollatedBatch> four;
        try (BatchLoader l = loader(0, 1, 1)) {
            one = take(l, 8); // 48 samples: crosses the epoch boundary at 40
        }
        try (BatchLoader l = loader(0, 4, 3)) {
            four = take(l, 8);
        }
        for (int i = 0; i < one.size(); i++) {
            assertSameBatch(one.get(i), four.get(i));
        }
        assertFalse(java.util.Arrays.equals(one.get(0).globalCrops(), one.get(1).globalCrops()));
        assertEquals(2 * BATCH * 3 * 32 * 32, one.get(0).globalCrops().length);
        assertEquals(2 * BATCH * 3 * 16 * 16, one.get(0).localCrops().length);
    }

    @Test
    void shouldResumeBitwiseFromACheckpointedPosition() {
        int k = 5;
        List<CollatedBatch> fresh;
        long checkpoint;
        try (BatchLoader l = loader(0, 2, 2)) {
            assertEquals(0, l.position());
            fresh = take(l, k);
            checkpoint = l.position(); // what a checkpoint after step k-1 stores
            assertEquals((long) k * BATCH, checkpoint);
            assertEquals(k, l.step());
            fresh.addAll(take(l, 2));
        }
        try (BatchLoader resumed = loader(checkpoint, 3, 2)) {
            assertEquals(k, resumed.step());
            assertSameBatch(fresh.get(k), resumed.next());
            assertSameBatch(fresh.get(k + 1), resumed.next());
            assertEquals((k + 2L) * BATCH, resumed.position());
        }
    }

    @Test
    void shouldReportDatasetErrorsToTheConsumer() {
        EpochSampler sampler = new EpochSampler(40, SEED);
        int failing = EpochSampler.permutation(40, SEED, 0)[BATCH + 1]; // second batch
        try (BatchLoader l =
                new BatchLoader(new SyntheticDataset(failing), AUGMENTATION, COLLATOR, sampler, BATCH, SEED, 2, 2)) {
            l.next();
            DatasetException e = assertThrows(DatasetException.class, l::next);
            assertTrue(e.getMessage().contains("synthetic/" + failing + ".png"), e.getMessage());
        }
    }

    @Test
    void shouldReleaseABlockedConsumerOnClose() throws InterruptedException {
        BatchLoader l = new BatchLoader(
                new SyntheticDataset(-1, 1000), AUGMENTATION, COLLATOR, new EpochSampler(40, SEED), BATCH, SEED, 1, 1);
        Throwable[] thrown = new Throwable[1];
        Thread consumer = new Thread(() -> {
            try {
                l.next();
            } catch (Throwable t) {
                thrown[0] = t;
            }
        });
        consumer.start();
        Thread.sleep(100);
        l.close();
        consumer.join(10_000);
        assertFalse(consumer.isAlive());
        assertTrue(thrown[0] instanceof IllegalStateException, String.valueOf(thrown[0]));
        assertEquals(0, l.position());
    }

    @Test
    void shouldStopItsThreadsOnClose() throws InterruptedException {
        BatchLoader l = loader(0, 3, 4);
        l.next();
        l.close();
        l.close(); // idempotent
        assertThrows(IllegalStateException.class, l::next);
        // a pool thread finishes its exit a moment after awaitTermination returns: allow it that moment
        boolean alive = true;
        for (int i = 0; i < 200 && alive; i++) {
            alive = Thread.getAllStackTraces().keySet().stream()
                    .anyMatch(t -> t.getName().startsWith("dinoj-loader-") && t.isAlive());
            if (alive) {
                Thread.sleep(10);
            }
        }
        assertFalse(alive, "loader threads still running 2 s after close()");
    }
}
