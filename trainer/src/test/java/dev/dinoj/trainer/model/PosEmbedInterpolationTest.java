package dev.dinoj.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import org.junit.jupiter.api.Test;

/** Bicubic position-embedding resampling (F.interpolate bicubic, align_corners=False, as dinov2 calls it). */
class PosEmbedInterpolationTest {

    private static void assertRowsSumToOne(double[][] w, String what) {
        for (int i = 0; i < w.length; i++) {
            double s = 0;
            for (double v : w[i]) {
                s += v;
            }
            assertEquals(1.0, s, 1e-12, what + " row " + i);
        }
    }

    @Test
    void weightRowsSumToOne() {
        int[][] sizes = {{4, 8}, {7, 11}, {12, 5}, {16, 37}, {37, 16}, {6, 6}};
        for (int[] s : sizes) {
            for (double offset : new double[] {0.0, 0.1}) {
                for (boolean aa : new boolean[] {false, true}) {
                    assertRowsSumToOne(
                            PosEmbedInterpolation.weights(s[0], s[1], offset, aa),
                            s[0] + "→" + s[1] + " offset " + offset + " antialias " + aa);
                }
            }
        }
    }

    @Test
    void sameSizeWithoutOffsetIsTheIdentity() {
        for (boolean aa : new boolean[] {false, true}) {
            double[][] w = PosEmbedInterpolation.weights(8, 8, 0.0, aa);
            for (int i = 0; i < 8; i++) {
                for (int j = 0; j < 8; j++) {
                    assertEquals(i == j ? 1.0 : 0.0, w[i][j], 1e-15, "antialias " + aa + " (" + i + "," + j + ")");
                }
            }
        }
    }

    /** PyTorch's {@code cubic_convolution1/2} with A = −0.75, transcribed from UpSample.h. */
    private static double[] cubicCoefficients(double t) {
        double a = -0.75;
        java.util.function.DoubleUnaryOperator c1 = x -> ((a + 2) * x - (a + 3)) * x * x + 1;
        java.util.function.DoubleUnaryOperator c2 = x -> ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
        return new double[] {
            c2.applyAsDouble(t + 1), c1.applyAsDouble(t), c1.applyAsDouble(1 - t), c2.applyAsDouble(2 - t)
        };
    }

    @Test
    void offsetMakesTheSameSizeResamplingSlightlyShifted() {
        // dinov2 passes scale_factor = (out + 0.1) / in, so PyTorch samples source position
        // (in / (out + 0.1))·(i + 0.5) − 0.5: not the identity even when out == in, but close to it.
        int n = 8;
        double[][] w = PosEmbedInterpolation.weights(n, n, 0.1, false);
        double maxDev = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                maxDev = Math.max(maxDev, Math.abs(w[i][j] - (i == j ? 1 : 0)));
            }
        }
        assertTrue(maxDev > 1e-3, "not the identity: " + maxDev);
        double scale = n / (n + 0.1);
        for (int i = 0; i < n; i++) {
            double real = scale * (i + 0.5) - 0.5;
            int base = (int) Math.floor(real);
            double[] c = cubicCoefficients(real - base);
            double[] want = new double[n];
            for (int k = 0; k < 4; k++) {
                want[Math.min(Math.max(base - 1 + k, 0), n - 1)] += c[k];
            }
            assertArrayEquals(want, w[i], 1e-12, "row " + i + " samples source position " + real);
            double v = 0;
            for (int j = 0; j < n; j++) {
                v += w[i][j] * j;
            }
            assertEquals(i, v, 0.12, "a ramp stays close to itself at " + i);
        }
    }

    @Test
    void handComputedUpsamplingByTwo() {
        // scale 0.5: output 0 samples at −0.25 (t = 0.75 from −1), output 1 at 0.25 (t = 0.25 from 0). The a = −0.75
        // cubic weights for t = 0.25 are [−0.10546875, 0.87890625, 0.26171875, −0.03515625] (reversed for 0.75);
        // indices below 0 are clamped to 0.
        double[][] w = PosEmbedInterpolation.weights(4, 8, 0.0, false);
        assertArrayEquals(new double[] {-0.03515625 + 0.26171875 + 0.87890625, -0.10546875, 0, 0}, w[0], 1e-15);
        assertArrayEquals(new double[] {-0.10546875 + 0.87890625, 0.26171875, -0.03515625, 0}, w[1], 1e-15);
        assertArrayEquals(new double[] {-0.03515625 + 0.26171875, 0.87890625, -0.10546875, 0}, w[2], 1e-15);
        assertArrayEquals(new double[] {-0.10546875, 0.87890625, 0.26171875, -0.03515625}, w[3], 1e-15);
        assertArrayEquals(new double[] {0, 0, -0.10546875, 0.87890625 + 0.26171875 - 0.03515625}, w[7], 1e-15);
    }

    @Test
    void handComputedAntialiasedDownsamplingByTwo() {
        // _upsample_bicubic2d_aa with scale 2: support 4, centre 2(i + 0.5), taps j in [centre − 4 + 0.5, centre + 4 +
        // 0.5)
        // at distance |j − centre + 0.5| / 2 with the a = −0.5 kernel, normalised.
        double[][] w = PosEmbedInterpolation.weights(8, 4, 0.0, true);
        int i = 1;
        double centre = 2 * (i + 0.5);
        double[] want = new double[8];
        double total = 0;
        for (int j = 0; j < 8; j++) {
            double x = Math.abs((j - centre + 0.5) / 2);
            double v =
                    x < 1 ? 1.5 * x * x * x - 2.5 * x * x + 1 : x < 2 ? -0.5 * x * x * x + 2.5 * x * x - 4 * x + 2 : 0;
            want[j] = v;
            total += v;
        }
        for (int j = 0; j < 8; j++) {
            want[j] /= total;
        }
        assertArrayEquals(want, w[i], 1e-12);
        // taps around the centre 3 at x = 1.25, 0.75, 0.25, 0.25, 0.75, 1.25, 1.75 for pixels 0..6: symmetric pairs
        assertEquals(w[1][2], w[1][3], 1e-15);
        assertEquals(w[1][1], w[1][4], 1e-15);
    }

    @Test
    void constantGridStaysConstant() {
        int m = 4;
        for (double offset : new double[] {0.0, 0.1}) {
            for (boolean aa : new boolean[] {false, true}) {
                for (int[] out : new int[][] {{6, 5}, {2, 3}, {4, 4}, {9, 9}}) {
                    float[] k = PosEmbedInterpolation.matrix(m, out[0], out[1], offset, aa);
                    assertEquals(out[0] * out[1] * m * m, k.length);
                    for (int r = 0; r < out[0] * out[1]; r++) {
                        double v = 0;
                        for (int c = 0; c < m * m; c++) {
                            v += k[r * m * m + c] * 2.5;
                        }
                        assertEquals(2.5, v, 1e-5, "offset " + offset + " aa " + aa + " row " + r);
                    }
                }
            }
        }
    }

    @Test
    void matrixIsTheKroneckerProductOfTheOneDimensionalWeights() {
        double[][] wh = PosEmbedInterpolation.weights(3, 5, 0.1, false);
        double[][] ww = PosEmbedInterpolation.weights(3, 2, 0.1, false);
        float[] k = PosEmbedInterpolation.matrix(3, 5, 2, 0.1, false);
        for (int i = 0; i < 5; i++) {
            for (int j = 0; j < 2; j++) {
                for (int a = 0; a < 3; a++) {
                    for (int b = 0; b < 3; b++) {
                        assertEquals(wh[i][a] * ww[j][b], k[(i * 2 + j) * 9 + a * 3 + b], 1e-7);
                    }
                }
            }
        }
    }

    @Test
    void positionEmbeddingIsUnchangedAtTheTrainingSizeAndInterpolatedElsewhere() {
        VitConfig cfg = new VitConfig(16, 4, 8, 1, 2, 2.0, FfnType.MLP, 0, 0, true, true, true, 0.0, true, 0.1, false);
        try (NDManager mgr = NDManager.newBaseManager();
                ParamSet p = new ParamSet(mgr)) {
            new ModelInit(1).backbone(p, "", cfg);
            VisionTransformer vit = new VisionTransformer(cfg, p, "");
            NDArray pos = p.get("pos_embed");
            NDArray same = vit.positionEmbedding(4, 4);
            assertSame(pos, same, "dinov2 returns self.pos_embed when npatch == N and w == h");

            NDArray bigger = vit.positionEmbedding(6, 5);
            assertEquals(new ai.djl.ndarray.types.Shape(1, 1 + 30, 8), bigger.getShape());
            float[] b = bigger.toFloatArray();
            float[] a = pos.toFloatArray();
            for (int d = 0; d < 8; d++) {
                assertEquals(a[d], b[d], 0f, "CLS position is not interpolated");
            }
            // patch positions = K · P
            float[] k = PosEmbedInterpolation.matrix(4, 6, 5, 0.1, false);
            for (int r = 0; r < 30; r++) {
                for (int d = 0; d < 8; d++) {
                    double v = 0;
                    for (int c = 0; c < 16; c++) {
                        v += (double) k[r * 16 + c] * a[(1 + c) * 8 + d];
                    }
                    assertEquals(v, b[(1 + r) * 8 + d], 1e-6, "row " + r + " dim " + d);
                }
            }
        }
    }
}
