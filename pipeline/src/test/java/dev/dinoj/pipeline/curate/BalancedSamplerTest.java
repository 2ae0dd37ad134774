package dev.dinoj.pipeline.curate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.pipeline.search.FloatMatrix;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BalancedSamplerTest {
    @Test
    void shouldCutTheLargestClustersFirstAsTheReferenceDoes() {
        // _find_best_cut_left([1, 5, 10], 9) = 4: min(4, .) sums to 1 + 4 + 4 = 9
        assertEquals(4, BalancedSampler.bestCutLeft(new int[] {1, 5, 10}, 9));
        assertArrayEquals(
                new int[] {1, 4, 4},
                BalancedSampler.subclusterTargets(new int[] {1, 5, 10}, 9, new SplittableRandom(0)));
        // 10 over [3, 3, 8]: cut 3 gives 9, one more for the only cluster above the cut
        assertArrayEquals(
                new int[] {3, 3, 4},
                BalancedSampler.subclusterTargets(new int[] {3, 3, 8}, 10, new SplittableRandom(0)));
        // 11 over [2, 7, 7]: cut 4 gives 10; the +1 goes to one of the two large clusters
        int[] t = BalancedSampler.subclusterTargets(new int[] {2, 7, 7}, 11, new SplittableRandom(5));
        assertEquals(2, t[0]);
        assertEquals(11, Arrays.stream(t).sum());
        assertTrue((t[1] == 5 && t[2] == 4) || (t[1] == 4 && t[2] == 5));
        // everything fits
        assertArrayEquals(
                new int[] {2, 3}, BalancedSampler.subclusterTargets(new int[] {2, 3}, 10, new SplittableRandom(0)));
    }

    @Test
    void shouldBalanceAnUnbalancedPoolToTheTargetSize() {
        // one dense concept (900 points) and five rare ones (20 points each)
        SplittableRandom rnd = new SplittableRandom(1);
        int d = 8;
        int[] sizes = {900, 20, 20, 20, 20, 20};
        int n = Arrays.stream(sizes).sum();
        float[] data = new float[n * d];
        int[] concept = new int[n];
        int row = 0;
        for (int c = 0; c < sizes.length; c++) {
            for (int i = 0; i < sizes[c]; i++, row++) {
                concept[row] = c;
                for (int j = 0; j < d; j++) {
                    data[row * d + j] = (float) ((j == c ? 5.0 : 0.0) + (c == 0 ? 1.0 : 0.2) * rnd.nextGaussian());
                }
            }
        }
        FloatMatrix x = new FloatMatrix(n, d, data);
        HierarchicalKMeans.Hierarchy h = HierarchicalKMeans.fit(
                x,
                new HierarchicalKMeans.Settings(new int[] {30, 6}, 15, 5, null, HierarchicalKMeans.Strategy.CLOSEST, 3),
                null);
        int[] picked = BalancedSampler.sample(h, 200, BalancedSampler.Pick.RANDOM, 4);
        assertEquals(200, picked.length);
        Set<Integer> distinct = new HashSet<>();
        int[] perConcept = new int[sizes.length];
        for (int p : picked) {
            assertTrue(distinct.add(p), "sampled twice: " + p);
            perConcept[concept[p]]++;
        }
        // random sampling would keep ~164 of the dense concept and ~4 of each rare one
        for (int c = 1; c < sizes.length; c++) {
            assertTrue(
                    perConcept[c] >= 15,
                    "rare concept " + c + " kept " + perConcept[c] + " of 20: " + Arrays.toString(perConcept));
        }
        assertTrue(perConcept[0] <= 125, "dense concept cut down: " + Arrays.toString(perConcept));
        assertArrayEquals(picked, BalancedSampler.sample(h, 200, BalancedSampler.Pick.RANDOM, 4));
    }
}
