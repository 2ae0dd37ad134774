package dev.dinoj.pipeline.search;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class KMeansTest {
    /** {@code k} tight, well-separated blobs of {@code per} points in {@code d} dims; blob of point i is i / per. */
    static FloatMatrix blobs(int k, int per, int d, long seed) {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
        float[] data = new float[k * per * d];
        for (int c = 0; c < k; c++) {
            for (int p = 0; p < per; p++) {
                for (int j = 0; j < d; j++) {
                    double center = (j == c % d ? 10.0 : 0.0) + (j == (c / d) % d ? 5.0 : 0.0);
                    data[(c * per + p) * d + j] = (float) (center + 0.1 * rnd.nextGaussian());
                }
            }
        }
        return new FloatMatrix(k * per, d, data);
    }

    @Test
    void shouldRecoverSeparatedBlobsWithKMeansPlusPlus() {
        int k = 6;
        int per = 50;
        FloatMatrix x = blobs(k, per, 8, 1);
        KMeans.Result r = KMeans.fit(x, KMeans.Settings.of(k, 10, 42));
        // every blob in one cluster, every cluster one blob
        Set<Integer> used = new HashSet<>();
        for (int c = 0; c < k; c++) {
            int label = r.assignment()[c * per];
            for (int p = 0; p < per; p++) {
                assertEquals(label, r.assignment()[c * per + p], "blob " + c + " split");
            }
            assertTrue(used.add(label), "two blobs merged");
        }
        assertTrue(r.inertia() < k * per * 8 * 0.1 * 0.1 * 1.5, "inertia " + r.inertia());
        int[][] clusters = r.clustersByDistance();
        for (int[] members : clusters) {
            for (int i = 1; i < members.length; i++) {
                assertTrue(r.distances()[members[i - 1]] <= r.distances()[members[i]]);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void shouldAssignEveryRowToItsNearestCentroid(Precision p) {
        FloatMatrix x = FloatMatrix.clustered(500, 12, 7, 0.3, 5);
        KMeans.Result r = KMeans.fit(
                x, KMeans.Settings.of(9, 3, 1).withInit(KMeans.Init.RANDOM).withPrecision(p));
        FloatMatrix c = r.centroids();
        for (int i = 0; i < x.rows(); i++) {
            int best = -1;
            double bestD = Double.MAX_VALUE;
            for (int j = 0; j < c.rows(); j++) {
                double d = 0;
                for (int t = 0; t < x.cols(); t++) {
                    double diff = x.data()[i * x.cols() + t] - c.data()[j * c.cols() + t];
                    d += diff * diff;
                }
                if (d < bestD) {
                    bestD = d;
                    best = j;
                }
            }
            assertEquals(bestD, r.distances()[i], 1e-4);
            if (r.assignment()[i] != best) {
                // ties within float error only
                double got = 0;
                for (int t = 0; t < x.cols(); t++) {
                    double diff = x.data()[i * x.cols() + t] - c.data()[r.assignment()[i] * c.cols() + t];
                    got += diff * diff;
                }
                assertEquals(bestD, got, 1e-5);
            }
        }
    }

    @Test
    void shouldNotIncreaseInertiaWithMoreIterations() {
        FloatMatrix x = FloatMatrix.clustered(2000, 16, 30, 0.3, 9);
        double prev = Double.MAX_VALUE;
        for (int it : new int[] {0, 2, 8}) {
            double inertia = KMeans.fit(x, KMeans.Settings.of(20, it, 3)).inertia();
            assertTrue(inertia <= prev + 1e-3, it + " iterations: " + inertia + " > " + prev);
            prev = inertia;
        }
    }

    @Test
    void shouldSampleDistinctSortedIndices() {
        int[] s = KMeans.sampleWithoutReplacement(1_000_000, 500, new java.util.SplittableRandom(1));
        assertEquals(500, s.length);
        for (int i = 1; i < s.length; i++) {
            assertTrue(s[i - 1] < s[i]);
        }
        assertEquals(10, KMeans.sampleWithoutReplacement(10, 10, new java.util.SplittableRandom(1)).length);
    }
}
