package dev.dinoj.trainer.model;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Bicubic resampling of the learned position-embedding grid, written as one linear map so it is differentiable
 * and exact: for a source grid M×M and a target grid H×W, {@code out = K · P} with {@code K = Wh ⊗ Ww}
 * ((H·W) × M²) and P the (M², D) patch position embeddings.
 *
 * <p>The 1-D weights reproduce PyTorch's {@code F.interpolate(mode="bicubic", align_corners=False)} as dinov2's
 * {@code interpolate_pos_encoding} calls it: with {@code interpolate_offset > 0} the sampling scale is
 * {@code M / (out + offset)} (PyTorch is given {@code scale_factor}), otherwise {@code M / out}; without
 * antialiasing the cubic convolution kernel has a = −0.75 and clamps indices at the border
 * ({@code upsample_bicubic2d}); with antialiasing it follows {@code _upsample_bicubic2d_aa} (a = −0.5, support
 * widened by the scale when downsampling, weights normalised to sum to one).
 */
public final class PosEmbedInterpolation {

    private static final Map<String, float[]> CACHE = new ConcurrentHashMap<>();

    private PosEmbedInterpolation() {}

    /** Row-major (outH·outW) × (m·m) interpolation matrix. */
    public static float[] matrix(int m, int outH, int outW, double offset, boolean antialias) {
        String key = m + ":" + outH + ":" + outW + ":" + offset + ":" + antialias;
        return CACHE.computeIfAbsent(key, k -> {
            double[][] wh = weights(m, outH, offset, antialias);
            double[][] ww = weights(m, outW, offset, antialias);
            int cols = m * m;
            float[] kron = new float[outH * outW * cols];
            for (int i = 0; i < outH; i++) {
                for (int j = 0; j < outW; j++) {
                    int row = (i * outW + j) * cols;
                    for (int a = 0; a < m; a++) {
                        if (wh[i][a] == 0) {
                            continue;
                        }
                        for (int b = 0; b < m; b++) {
                            kron[row + a * m + b] = (float) (wh[i][a] * ww[j][b]);
                        }
                    }
                }
            }
            return kron;
        });
    }

    /** 1-D weights: out × in, each row the contribution of every source index to one output index. */
    public static double[][] weights(int in, int out, double offset, boolean antialias) {
        // PyTorch: scale = 1/scale_factor when scale_factor is given, else in/out
        double scale = offset > 0 ? 1.0 / ((out + offset) / in) : (double) in / out;
        double[][] w = new double[out][in];
        for (int i = 0; i < out; i++) {
            if (antialias) {
                antialiasRow(w[i], in, i, scale);
            } else {
                cubicRow(w[i], in, i, scale);
            }
        }
        return w;
    }

    private static void cubicRow(double[] row, int in, int i, double scale) {
        final double a = -0.75;
        double real = scale * (i + 0.5) - 0.5;
        int base = (int) Math.floor(real);
        double t = real - base;
        double[] c = {cubic2(t + 1, a), cubic1(t, a), cubic1(1 - t, a), cubic2(2 - t, a)};
        for (int k = 0; k < 4; k++) {
            int idx = Math.min(Math.max(base - 1 + k, 0), in - 1);
            row[idx] += c[k];
        }
    }

    private static void antialiasRow(double[] row, int in, int i, double scale) {
        double support = scale >= 1.0 ? 2.0 * scale : 2.0;
        double center = scale * (i + 0.5);
        double invscale = scale >= 1.0 ? 1.0 / scale : 1.0;
        int xmin = Math.max((int) (center - support + 0.5), 0);
        int xmax = Math.min((int) (center + support + 0.5), in);
        double total = 0;
        for (int j = xmin; j < xmax; j++) {
            double x = Math.abs((j - center + 0.5) * invscale);
            double v = x < 1 ? cubic1(x, -0.5) : x < 2 ? cubic2(x, -0.5) : 0;
            row[j] = v;
            total += v;
        }
        if (total != 0) {
            for (int j = xmin; j < xmax; j++) {
                row[j] /= total;
            }
        }
    }

    private static double cubic1(double x, double a) {
        return ((a + 2) * x - (a + 3)) * x * x + 1;
    }

    private static double cubic2(double x, double a) {
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    }
}
