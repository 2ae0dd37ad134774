package dev.dinoj.pipeline.masking;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.pipeline.augment.MultiCropSample;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CollatorTest {
    private static final int G = 8;
    private static final int L = 4;

    /** Sample {@code b}: every value of global crop c is {@code 10 b + c}, of local crop c {@code -(10 b + c)}. */
    private static List<MultiCropSample> samples(int batch, int nLocal) {
        List<MultiCropSample> list = new ArrayList<>();
        for (int b = 0; b < batch; b++) {
            float[][] global = new float[2][3 * G * G];
            float[][] local = new float[nLocal][3 * L * L];
            for (int c = 0; c < 2; c++) {
                Arrays.fill(global[c], 10 * b + c);
            }
            for (int c = 0; c < nLocal; c++) {
                Arrays.fill(local[c], -(10 * b + c));
            }
            list.add(new MultiCropSample(G, L, global, local));
        }
        return list;
    }

    @Test
    void shouldStackCropMajor() {
        CollatedBatch batch = Collator.official(MaskingGenerator.forGlobalCrops(32, 4))
                .collate(samples(3, 2), new SplittableRandom(1));
        assertEquals(3, batch.batchSize());
        assertEquals(2, batch.nLocal());
        assertEquals(6 * 3 * G * G, batch.globalCrops().length);
        assertEquals(6 * 3 * L * L, batch.localCrops().length);
        for (int c = 0; c < 2; c++) {
            for (int b = 0; b < 3; b++) {
                int row = c * 3 + b; // crop-major
                assertEquals(10 * b + c, batch.globalCrops()[row * 3 * G * G]);
                assertEquals(10 * b + c, batch.globalCrops()[(row + 1) * 3 * G * G - 1]);
                assertEquals(-(10 * b + c), batch.localCrops()[row * 3 * L * L]);
            }
        }
    }

    @Test
    void shouldRespectRatioBoundsAndKeepIndicesAndWeightsConsistent() {
        MaskingGenerator gen = MaskingGenerator.forGlobalCrops(32, 4); // N = 64
        Collator collator = Collator.official(gen);
        int n = gen.numPatches();
        for (int batchSize : new int[] {1, 2, 3, 8, 32}) {
            int rows = 2 * batchSize;
            int nMasked = (int) (rows * 0.5);
            float[] probs = Collator.linspace(0.1f, 0.5f, nMasked + 1);
            int expectedUpperbound = 0;
            int[] bounds = new int[nMasked];
            for (int i = 0; i < nMasked; i++) {
                bounds[i] = (int) (n * probs[i + 1]);
                expectedUpperbound += bounds[i];
            }
            for (long seed = 0; seed < 30; seed++) {
                CollatedBatch b = collator.collate(samples(batchSize, 1), new SplittableRandom(seed));
                assertEquals(n, b.nTokens());
                assertEquals(expectedUpperbound, b.upperbound());
                int[] counts = new int[rows];
                int total = 0;
                int nonEmpty = 0;
                for (int r = 0; r < rows; r++) {
                    counts[r] = b.maskedCount(r);
                    total += counts[r];
                    nonEmpty += counts[r] > 0 ? 1 : 0;
                }
                assertTrue(total <= b.upperbound(), total + " > upperbound " + b.upperbound());
                assertTrue(nonEmpty <= nMasked);
                // The masked rows' counts, sorted, lie under the sorted per-sample bounds int(N * probs[i+1]).
                int[] sorted = counts.clone();
                Arrays.sort(sorted);
                for (int i = 0; i < nMasked; i++) {
                    int c = sorted[rows - nMasked + i];
                    assertTrue(c <= bounds[i], "count " + c + " > bound " + bounds[i]);
                }
                // indices: ascending, exactly the set bits
                assertEquals(total, b.nMaskedPatches());
                assertEquals(total, b.maskIndices().length);
                for (int k = 0; k < total; k++) {
                    assertTrue(b.masks()[(int) b.maskIndices()[k]]);
                    assertTrue(k == 0 || b.maskIndices()[k] > b.maskIndices()[k - 1]);
                    int row = (int) (b.maskIndices()[k] / n);
                    assertEquals(1f / counts[row], b.masksWeight()[k]);
                }
                double weightSum = 0;
                for (float w : b.masksWeight()) {
                    weightSum += w;
                }
                assertEquals(nonEmpty, weightSum, 1e-4);
            }
        }
    }

    @Test
    void shouldShuffleWhichRowsAreMasked() {
        Collator collator = Collator.official(MaskingGenerator.forGlobalCrops(32, 4));
        int[] maskedPerRow = new int[8];
        for (long seed = 0; seed < 400; seed++) {
            CollatedBatch b = collator.collate(samples(4, 0), new SplittableRandom(seed));
            for (int r = 0; r < 8; r++) {
                maskedPerRow[r] += b.maskedCount(r) > 0 ? 1 : 0;
            }
        }
        for (int m : maskedPerRow) { // each row is masked in about half of the batches
            assertEquals(200, m, 60);
        }
    }

    @Test
    void shouldBeDeterministic() {
        Collator collator = Collator.official(MaskingGenerator.forGlobalCrops(32, 4));
        CollatedBatch a = collator.collate(samples(8, 2), new SplittableRandom(77));
        CollatedBatch b = collator.collate(samples(8, 2), new SplittableRandom(77));
        assertArrayEquals(a.masks(), b.masks());
        assertArrayEquals(a.maskIndices(), b.maskIndices());
        assertArrayEquals(a.masksWeight(), b.masksWeight());
        assertArrayEquals(a.globalCrops(), b.globalCrops());
    }

    @Test
    void shouldMaskNothingWithZeroProbability() {
        CollatedBatch b = new Collator(0.1, 0.5, 0.0, MaskingGenerator.forGlobalCrops(32, 4))
                .collate(samples(4, 1), new SplittableRandom(1));
        assertEquals(0, b.nMaskedPatches());
        assertEquals(0, b.upperbound());
    }

    @Test
    void shouldComputeLinspaceLikeTorchFloat32() {
        float[] p = Collator.linspace(0.1f, 0.5f, 5);
        assertEquals(0.1f, p[0]);
        assertEquals(0.5f, p[4]); // second half counts back from the end: exact end point
        float step = (0.5f - 0.1f) / 4;
        assertEquals(0.1f + step, p[1]);
        assertEquals(0.5f - step * 2, p[2]); // halfway = 2 belongs to the second half
        assertArrayEquals(new float[] {0.3f}, Collator.linspace(0.3f, 0.7f, 1));
        // n_tokens 64, 64 images: the per-sample caps int(64 * probs[i+1]) are exact in float32
        float[] probs = Collator.linspace(0.1f, 0.5f, 65);
        assertEquals(32, (int) (64f * probs[64]));
        assertEquals(16, (int) (64f * probs[24])); // 0.25
    }

    @Test
    void shouldRejectMixedSamples() {
        List<MultiCropSample> mixed = new ArrayList<>(samples(1, 1));
        mixed.addAll(samples(1, 2));
        Collator collator = Collator.official(MaskingGenerator.forGlobalCrops(32, 4));
        assertThrows(IllegalArgumentException.class, () -> collator.collate(mixed, new SplittableRandom(1)));
        assertThrows(IllegalArgumentException.class, () -> collator.collate(List.of(), new SplittableRandom(1)));
    }
}
