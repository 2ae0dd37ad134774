package dev.dinoj.trainer.loss;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.dinoj.testkit.RandomArrays;
import dev.dinoj.trainer.model.Scalars;
import org.junit.jupiter.api.Test;

/** Sinkhorn-Knopp centering (dinov2 {@code sinkhorn_knopp_teacher}) against hand values and its guarantees. */
class SinkhornKnoppTest {

    /** The official algorithm in plain double arithmetic; t is (n, K) row-major, returns (n, K). */
    private static double[] reference(float[] t, int n, int k, double temp, int iterations) {
        double[][] q = new double[k][n];
        double total = 0;
        for (int j = 0; j < n; j++) {
            for (int p = 0; p < k; p++) {
                q[p][j] = Math.exp(t[j * k + p] / temp);
                total += q[p][j];
            }
        }
        for (double[] row : q) {
            for (int j = 0; j < n; j++) {
                row[j] /= total;
            }
        }
        for (int it = 0; it < iterations; it++) {
            for (double[] row : q) {
                double s = 0;
                for (double v : row) {
                    s += v;
                }
                for (int j = 0; j < n; j++) {
                    row[j] = row[j] / s / k;
                }
            }
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s += q[p][j];
                }
                for (int p = 0; p < k; p++) {
                    q[p][j] = q[p][j] / s / n;
                }
            }
        }
        double[] out = new double[n * k];
        for (int j = 0; j < n; j++) {
            for (int p = 0; p < k; p++) {
                out[j * k + p] = q[p][j] * n;
            }
        }
        return out;
    }

    private static float[] apply(NDManager m, float[] t, int n, int k, double temp, int iterations) {
        NDArray x = m.create(t, new Shape(n, k));
        NDArray q = SinkhornKnopp.apply(x, temp, n, iterations, GlobalSum.LOCAL);
        assertEquals(new Shape(n, k), q.getShape());
        return q.toFloatArray();
    }

    @Test
    void handComputedTwoByTwoWithOneIteration() {
        // t = [[0, ln 2], [0, 0]], τ = 1 → Q = exp(t)ᵀ = [[1, 1], [2, 1]] (K × n), total 5 → [[.2, .2], [.4, .2]]
        // rows (prototypes) sum to [.4, .6] → Q / rows / K = [[1/4, 1/4], [1/3, 1/6]]
        // columns (samples) sum to [7/12, 5/12] → Q / cols / B · B = [[3/7, 3/5], [4/7, 2/5]]; transposed:
        float[] t = {0f, (float) Math.log(2), 0f, 0f};
        try (NDManager m = NDManager.newBaseManager()) {
            float[] q = apply(m, t, 2, 2, 1.0, 1);
            assertArrayEquals(new float[] {3f / 7, 4f / 7, 3f / 5, 2f / 5}, q, 1e-6f);
        }
    }

    @Test
    void matchesTheOfficialAlgorithmInDouble() {
        int n = 6;
        int k = 9;
        float[] t = RandomArrays.uniform(n * k, 1.0, 3);
        try (NDManager m = NDManager.newBaseManager()) {
            for (double temp : new double[] {0.04, 0.07, 1.0}) {
                float[] q = apply(m, t, n, k, temp, 3);
                double[] ref = reference(t, n, k, temp, 3);
                for (int i = 0; i < q.length; i++) {
                    assertEquals(ref[i], q[i], 1e-5 + 1e-4 * Math.abs(ref[i]), "τ " + temp + " element " + i);
                }
            }
        }
    }

    @Test
    void eachSampleSumsToOneWithTheOfficialThreeIterations() {
        int n = 8;
        int k = 16;
        try (NDManager m = NDManager.newBaseManager()) {
            float[] q = apply(m, RandomArrays.uniform(n * k, 1.0, 7), n, k, 0.07, 3);
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    assertTrue(q[j * k + p] >= 0, "assignments are non-negative");
                    s += q[j * k + p];
                }
                assertEquals(1.0, s, 1e-5, "row " + j);
            }
        }
    }

    @Test
    void prototypesGetEqualMassAfterManyIterations() {
        int n = 12;
        int k = 5;
        try (NDManager m = NDManager.newBaseManager()) {
            float[] q = apply(m, RandomArrays.uniform(n * k, 1.0, 11), n, k, 0.1, 50);
            for (int p = 0; p < k; p++) {
                double s = 0;
                for (int j = 0; j < n; j++) {
                    s += q[j * k + p];
                }
                assertEquals((double) n / k, s, 1e-3, "prototype " + p + " gets B/K");
            }
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) {
                    s += q[j * k + p];
                }
                assertEquals(1.0, s, 1e-5, "sample " + j);
            }
        }
    }

    @Test
    void withoutIterationsPrototypesAreUnbalanced() {
        // guards the column check above from passing trivially: with skewed logits 0 iterations is far from balanced
        int n = 12;
        int k = 5;
        float[] t = RandomArrays.uniform(n * k, 1.0, 11);
        try (NDManager m = NDManager.newBaseManager()) {
            float[] q0 = apply(m, t, n, k, 0.1, 0);
            double worst = 0;
            for (int p = 0; p < k; p++) {
                double s = 0;
                for (int j = 0; j < n; j++) {
                    s += q0[j * k + p];
                }
                worst = Math.max(worst, Math.abs(s - (double) n / k));
            }
            assertTrue(worst > 0.05, "unbalanced without iterations: " + worst);
        }
    }

    @Test
    void addingAConstantToOneSampleDoesNotChangeTheConvergedAssignment() {
        int n = 6;
        int k = 7;
        float[] t = RandomArrays.uniform(n * k, 1.0, 5);
        float[] shifted = t.clone();
        for (int p = 0; p < k; p++) {
            shifted[2 * k + p] += 0.3f; // sample 2
            shifted[4 * k + p] -= 0.2f; // sample 4
        }
        try (NDManager m = NDManager.newBaseManager()) {
            float[] a = apply(m, t, n, k, 0.25, 50);
            float[] b = apply(m, shifted, n, k, 0.25, 50);
            assertArrayEquals(a, b, 1e-5f);
            // the shift is not a no-op on the raw softmax-like input
            float[] a0 = apply(m, t, n, k, 0.25, 0);
            float[] b0 = apply(m, shifted, n, k, 0.25, 0);
            double diff = 0;
            for (int i = 0; i < a0.length; i++) {
                diff = Math.max(diff, Math.abs(a0[i] - b0[i]));
            }
            assertTrue(diff > 1e-2, "shifting changes the unnormalised input: " + diff);
        }
    }

    @Test
    void addingAConstantToEveryLogitIsExactlyInvariant() {
        int n = 4;
        int k = 6;
        float[] t = RandomArrays.uniform(n * k, 1.0, 9);
        float[] shifted = t.clone();
        for (int i = 0; i < shifted.length; i++) {
            shifted[i] += 0.25f;
        }
        try (NDManager m = NDManager.newBaseManager()) {
            assertArrayEquals(apply(m, t, n, k, 0.07, 3), apply(m, shifted, n, k, 0.07, 3), 1e-5f);
        }
    }

    @Test
    void globalSumSeesTheTotalAndTheRowSums() {
        // a GlobalSum that counts calls: one total + one row sum per iteration (both all-reduced in dinov2)
        int[] arrays = {0};
        GlobalSum counting = new GlobalSum() {
            @Override
            public NDArray sum(NDArray local) {
                arrays[0]++;
                return local;
            }

            @Override
            public double sum(double local) {
                return local;
            }
        };
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(RandomArrays.uniform(12, 1.0, 1), new Shape(3, 4));
            SinkhornKnopp.apply(x, 0.1, 3, 3, counting);
            assertEquals(1 + 3, arrays[0]);
        }
    }

    /** The out-of-place form the in-place implementation replaced (the official code's operations, one by one). */
    private static NDArray outOfPlace(NDArray t, double temp, double samples, int iterations) {
        NDArray q = Scalars.div(t, temp).exp().transpose();
        long k = q.getShape().get(0);
        q = q.div(q.sum());
        for (int it = 0; it < iterations; it++) {
            q = Scalars.div(q.div(q.sum(new int[] {1}, true)), k);
            q = Scalars.div(q.div(q.sum(new int[] {0}, true)), samples);
        }
        return Scalars.mul(q, samples).transpose();
    }

    @Test
    void inPlaceIsBitwiseTheOutOfPlaceSequence() {
        int n = 37;
        int k = 4096;
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray t = m.create(RandomArrays.uniform(n * k, 2.0, 5), new Shape(n, k));
            for (double temp : new double[] {0.04, 0.07}) {
                float[] expected = outOfPlace(t, temp, n, 3).toFloatArray();
                assertArrayEquals(
                        expected,
                        SinkhornKnopp.apply(t, temp, n, 3, GlobalSum.LOCAL).toFloatArray());
            }
        }
    }
}
