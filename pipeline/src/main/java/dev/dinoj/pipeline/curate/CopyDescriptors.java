package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.search.FloatMatrix;
import java.util.ArrayList;
import java.util.List;

/**
 * The retrieval descriptors of {@link AlignedCopyDetector}: per image, {@value #VIEWS} indexed views (whole thumbnail and its centre without a
 * padding-sized border, each also mirrored) and 49 crop windows (scales 1, 0.87, 0.75 per axis at 1–3 positions),
 * each an {@value #CELLS}×{@value #CELLS} area average, centred and L2-normalised.
 */
final class CopyDescriptors {
    /** Cells per side. */
    static final int CELLS = 8;
    /** Crop-window scales per axis. */
    private static final double[] SCALES = {1.0, 0.87, 0.75};
    /** Border of the "padding removed" indexed view, as a fraction of the side (2 px of 32). */
    static final double PAD = 0.0625;

    static final int VIEWS = 4;
    /** Per-axis windows: {scale, offset}. */
    static final double[][] AXIS = axisWindows();

    /** Crop windows per image. */
    static final int WINDOWS = AXIS.length * AXIS.length;

    private CopyDescriptors() {}

    private static double[][] axisWindows() {
        List<double[]> w = new ArrayList<>();
        for (double sc : SCALES) {
            int positions = sc >= 1 ? 1 : 3;
            for (int p = 0; p < positions; p++) {
                w.add(new double[] {sc, positions == 1 ? 0 : (1 - sc) * p / (positions - 1)});
            }
        }
        return w.toArray(new double[0][]);
    }

    /** The starting alignment of window {@code w} of the query image against view {@code v} of the other. */
    static CopyVerifier.Start start(int w, int v) {
        double[] wx = AXIS[w % AXIS.length];
        double[] wy = AXIS[w / AXIS.length];
        double c = v % 2 == 1 ? PAD : 0;
        boolean flip = v >= 2;
        double sx = wx[0] / (1 - 2 * c);
        double sy = wy[0] / (1 - 2 * c);
        return new CopyVerifier.Start((float) sx, (float) (wx[1] - sx * c), (float) sy, (float) (wy[1] - sy * c), flip);
    }

    /** The {@value #VIEWS} indexed views of every image of {@code x}: rows {@code i·VIEWS … i·VIEWS + 3}. */
    static FloatMatrix views(FloatMatrix x, int side) {
        int n = x.rows();
        int m = CELLS * CELLS;
        double[] fullW = boxWeights(side, 0, 1);
        double[] padW = boxWeights(side, PAD, 1 - PAD);
        float[] views = new float[n * VIEWS * m];
        double[] tmp = new double[side * CELLS];
        double[] desc = new double[m];
        for (int i = 0; i < n; i++) {
            int off = i * side * side;
            rowsTimes(x.data(), off, side, fullW, tmp);
            project(fullW, tmp, side, desc);
            put(desc, views, (i * VIEWS) * m, false);
            put(desc, views, (i * VIEWS + 2) * m, true);
            rowsTimes(x.data(), off, side, padW, tmp);
            project(padW, tmp, side, desc);
            put(desc, views, (i * VIEWS + 1) * m, false);
            put(desc, views, (i * VIEWS + 3) * m, true);
        }
        return new FloatMatrix(n * VIEWS, m, views);
    }

    /**
     * The {@link #WINDOWS} crop-window descriptors of images {@code from … to - 1} of {@code x}, computed per block of
     * queries (all of a large pool's windows at once would take 12.5 KB per image).
     */
    static FloatMatrix windows(FloatMatrix x, int side, int from, int to) {
        int m = CELLS * CELLS;
        int na = AXIS.length;
        double[][] axisW = new double[na][];
        for (int a = 0; a < na; a++) {
            axisW[a] = boxWeights(side, AXIS[a][1], AXIS[a][1] + AXIS[a][0]);
        }
        float[] windows = new float[(to - from) * WINDOWS * m];
        double[][] cols = new double[na][side * CELLS];
        double[] desc = new double[m];
        for (int i = from; i < to; i++) {
            int off = i * side * side;
            for (int a = 0; a < na; a++) {
                rowsTimes(x.data(), off, side, axisW[a], cols[a]);
            }
            for (int wy = 0; wy < na; wy++) {
                for (int wx = 0; wx < na; wx++) {
                    project(axisW[wy], cols[wx], side, desc);
                    put(desc, windows, (((i - from) * na + wy) * na + wx) * m, false);
                }
            }
        }
        return new FloatMatrix((to - from) * WINDOWS, m, windows);
    }

    /** out[y][k] = Σ_x img[y][x] · w[k][x]: the window along x, [side, CELLS]. */
    private static void rowsTimes(float[] img, int off, int side, double[] w, double[] out) {
        for (int y = 0; y < side; y++) {
            for (int k = 0; k < CELLS; k++) {
                double s = 0;
                for (int xx = 0; xx < side; xx++) {
                    s += img[off + y * side + xx] * w[k * side + xx];
                }
                out[y * CELLS + k] = s;
            }
        }
    }

    /** desc[ky][kx] = Σ_y w[ky][y] · cols[y][kx]. */
    private static void project(double[] w, double[] cols, int side, double[] desc) {
        for (int ky = 0; ky < CELLS; ky++) {
            for (int kx = 0; kx < CELLS; kx++) {
                double s = 0;
                for (int y = 0; y < side; y++) {
                    s += w[ky * side + y] * cols[y * CELLS + kx];
                }
                desc[ky * CELLS + kx] = s;
            }
        }
    }

    /** Centred, L2-normalised (optionally mirrored) copy of {@code desc} into {@code out} at {@code at}. */
    private static void put(double[] desc, float[] out, int at, boolean mirror) {
        double mean = 0;
        for (double v : desc) {
            mean += v;
        }
        mean /= desc.length;
        double norm = 0;
        for (double v : desc) {
            norm += (v - mean) * (v - mean);
        }
        double inv = 1 / Math.max(Math.sqrt(norm), 1e-9);
        for (int ky = 0; ky < CELLS; ky++) {
            for (int kx = 0; kx < CELLS; kx++) {
                int src = ky * CELLS + (mirror ? CELLS - 1 - kx : kx);
                out[at + ky * CELLS + kx] = (float) ((desc[src] - mean) * inv);
            }
        }
    }

    /** Area-averaging weights of the interval [lo, hi] (normalised) of {@code side} pixels into CELLS bins. */
    static double[] boxWeights(int side, double lo, double hi) {
        double[] w = new double[CELLS * side];
        double a = lo * side;
        double width = (hi - lo) * side / CELLS;
        for (int k = 0; k < CELLS; k++) {
            double b0 = a + k * width;
            double b1 = b0 + width;
            for (int p = Math.max(0, (int) Math.floor(b0)); p < Math.min(side, (int) Math.ceil(b1)); p++) {
                double ov = Math.min(b1, p + 1) - Math.max(b0, p);
                if (ov > 0) {
                    w[k * side + p] = ov / width;
                }
            }
        }
        return w;
    }
}
