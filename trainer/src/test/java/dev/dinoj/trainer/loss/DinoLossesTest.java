package dev.dinoj.trainer.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.dinoj.testkit.RandomArrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** DINO, iBOT and KoLeo losses against hand arithmetic in double (dinov2/loss/*.py). */
class DinoLossesTest {

    private static double[] logSoftmax(float[] x, int row, int k, double temp) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < k; i++) {
            max = Math.max(max, x[row * k + i] / temp);
        }
        double s = 0;
        for (int i = 0; i < k; i++) {
            s += Math.exp(x[row * k + i] / temp - max);
        }
        double lse = max + Math.log(s);
        double[] out = new double[k];
        for (int i = 0; i < k; i++) {
            out[i] = x[row * k + i] / temp - lse;
        }
        return out;
    }

    /** Teacher-like rows: positive, summing to 1. */
    private static float[] probs(int n, int k, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] p = new float[n * k];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < k; j++) {
                p[i * k + j] = (float) (0.1 + r.nextDouble());
                s += p[i * k + j];
            }
            for (int j = 0; j < k; j++) {
                p[i * k + j] /= (float) s;
            }
        }
        return p;
    }

    @Test
    void dinoLossIsTheSummedCrossEntropyOverChunkPairs() {
        int b = 2;
        int k = 3;
        double temp = 0.1;
        float[][] s = {{0.1f, -0.2f, 0.3f, 0.05f, 0.0f, -0.1f}, {0.2f, 0.2f, -0.3f, -0.1f, 0.4f, 0.0f}};
        float[][] t = {{0.2f, 0.3f, 0.5f, 0.6f, 0.3f, 0.1f}, {0.1f, 0.8f, 0.1f, 1f / 3, 1f / 3, 1f / 3}};
        double want = 0;
        for (float[] sc : s) {
            for (float[] tc : t) {
                double mean = 0;
                for (int r = 0; r < b; r++) {
                    double[] lsm = logSoftmax(sc, r, k, temp);
                    for (int j = 0; j < k; j++) {
                        mean += tc[r * k + j] * lsm[j];
                    }
                }
                want -= mean / b;
            }
        }
        try (NDManager m = NDManager.newBaseManager()) {
            List<NDArray> st = List.of(m.create(s[0], new Shape(b, k)), m.create(s[1], new Shape(b, k)));
            List<NDArray> tt = List.of(m.create(t[0], new Shape(b, k)), m.create(t[1], new Shape(b, k)));
            NDArray loss = DinoLosses.dino(st, tt, temp);
            assertEquals(0, loss.getShape().dimension(), "scalar");
            assertEquals(want, loss.getFloat(), 1e-5 * Math.abs(want));
            // a single pair: −mean Σ t log_softmax(s/τ)
            double one = 0;
            for (int r = 0; r < b; r++) {
                double[] lsm = logSoftmax(s[0], r, k, temp);
                for (int j = 0; j < k; j++) {
                    one -= t[1][r * k + j] * lsm[j] / b;
                }
            }
            assertEquals(
                    one,
                    DinoLosses.dino(st.subList(0, 1), tt.subList(1, 2), temp).getFloat(),
                    1e-5 * one);
        }
    }

    @Test
    void dinoLossIsMinimalWhenTheStudentMatchesAOneHotTeacher() {
        // cross-entropy with a fixed teacher: the better the student agrees, the lower the loss
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray t = m.create(new float[] {0, 1, 0}, new Shape(1, 3));
            NDArray good = m.create(new float[] {0, 1, 0}, new Shape(1, 3));
            NDArray bad = m.create(new float[] {1, 0, 0}, new Shape(1, 3));
            double lg = DinoLosses.dino(List.of(good), List.of(t), 0.1).getFloat();
            double lb = DinoLosses.dino(List.of(bad), List.of(t), 0.1).getFloat();
            assertTrue(lg < lb, lg + " < " + lb);
            assertEquals(Math.log(1 + 2 * Math.exp(-10)), lg, 1e-6);
        }
    }

    @Test
    void ibotLossWeightsPatchesAndDividesByTheNumberOfMaskedImages() {
        int n = 5;
        int k = 4;
        double temp = 0.1;
        float[] s = RandomArrays.uniform(n * k, 21);
        float[] t = probs(n, k, 22);
        float[] w = {1f / 3, 1f / 3, 1f / 3, 0.5f, 0.5f}; // image 0 has 3 masked patches, image 2 has 2
        long nMaskRows = 4; // 2B global crops
        double want = 0;
        for (int i = 0; i < n; i++) {
            double[] lsm = logSoftmax(s, i, k, temp);
            double ce = 0;
            for (int j = 0; j < k; j++) {
                ce += t[i * k + j] * lsm[j];
            }
            want -= w[i] * ce;
        }
        want /= nMaskRows;
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray loss = DinoLosses.ibot(
                    m.create(s, new Shape(n, k)),
                    m.create(t, new Shape(n, k)),
                    m.create(w, new Shape(n)),
                    nMaskRows,
                    temp);
            assertEquals(want, loss.getFloat(), 1e-5 * Math.abs(want));
        }
    }

    /** −mean log(‖x̂_i − x̂_nn(i)‖) of unit vectors at the given angles (no ε: its effect is ≈ 1e-8). */
    private static double koleoOfAngles(double[] deg, int[] nn) {
        double s = 0;
        for (int i = 0; i < deg.length; i++) {
            double d = Math.toRadians(deg[i] - deg[nn[i]]);
            s += Math.log(2 * Math.abs(Math.sin(d / 2)));
        }
        return -s / deg.length;
    }

    @Test
    void koleoKnownAnswerForThreePointsInTheDisk() {
        // angles 0°, 30°, 100° with different lengths (KoLeo normalises): nearest neighbours 0→30, 30→0, 100→30
        double[] deg = {0, 30, 100};
        double[] len = {1.0, 2.5, 0.3};
        float[] x = new float[6];
        for (int i = 0; i < 3; i++) {
            x[2 * i] = (float) (len[i] * Math.cos(Math.toRadians(deg[i])));
            x[2 * i + 1] = (float) (len[i] * Math.sin(Math.toRadians(deg[i])));
        }
        double want = koleoOfAngles(deg, new int[] {1, 0, 1}); // = −(2 log(2 sin 15°) + log(2 sin 35°)) / 3
        assertEquals(
                -(2 * Math.log(2 * Math.sin(Math.toRadians(15))) + Math.log(2 * Math.sin(Math.toRadians(35)))) / 3,
                want,
                1e-12);
        try (NDManager m = NDManager.newBaseManager()) {
            assertEquals(want, DinoLosses.koleo(m.create(x, new Shape(3, 2))).getFloat(), 1e-5);
        }
    }

    private static float[] onSphere(int n, int d, double spread, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] x = new float[n * d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                double g = Math.sqrt(-2 * Math.log(1 - r.nextDouble())) * Math.cos(2 * Math.PI * r.nextDouble());
                x[i * d + j] = (float) ((j == 0 ? 1 : 0) + spread * g);
            }
        }
        return x;
    }

    @Test
    void koleoDropsAsPointsSpread() {
        int n = 16;
        int d = 8;
        try (NDManager m = NDManager.newBaseManager()) {
            double clustered = DinoLosses.koleo(m.create(onSphere(n, d, 0.05, 1), new Shape(n, d)))
                    .getFloat();
            double medium = DinoLosses.koleo(m.create(onSphere(n, d, 0.3, 1), new Shape(n, d)))
                    .getFloat();
            double spread = DinoLosses.koleo(m.create(onSphere(n, d, 100, 1), new Shape(n, d)))
                    .getFloat();
            assertTrue(
                    spread < medium && medium < clustered,
                    "KoLeo should fall as points spread: clustered " + clustered + ", medium " + medium + ", spread "
                            + spread);
            // maximally spread: ±e_i in 4-D, every nearest neighbour at distance √2 → −log √2
            float[] cross = new float[8 * 4];
            for (int i = 0; i < 4; i++) {
                cross[(2 * i) * 4 + i] = 1;
                cross[(2 * i + 1) * 4 + i] = -1;
            }
            assertEquals(
                    -Math.log(Math.sqrt(2)),
                    DinoLosses.koleo(m.create(cross, new Shape(8, 4))).getFloat(),
                    1e-5);
        }
    }

    @Test
    void koleoOfDuplicatePointsIsLargeButFinite() {
        // two identical points: distance ε → −log(≈ 2e-8) ≈ 17.7; the ε terms keep it finite (dinov2 pdist eps)
        try (NDManager m = NDManager.newBaseManager()) {
            double v = DinoLosses.koleo(m.create(new float[] {1, 0, 1, 0}, new Shape(2, 2)))
                    .getFloat();
            assertTrue(Double.isFinite(v) && v > 15, "loss " + v);
        }
    }
}
