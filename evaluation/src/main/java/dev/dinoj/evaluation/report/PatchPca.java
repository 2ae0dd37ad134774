package dev.dinoj.evaluation.report;

import dev.dinoj.evaluation.knn.FeatureSet;
import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * The DINOv2 patch-feature figure: PCA of the patch tokens of a few images shown as RGB. As in the paper (Fig. 1
 * and its demo notebook): a first PCA over all patches of all images; thresholding its first component separates
 * foreground from background (the sign is chosen so that the border patches, mostly background on these
 * datasets, fall below the threshold); a second PCA over the foreground patches only; its first three components,
 * min-max scaled over the foreground, are the R, G and B of each foreground patch; background patches are black.
 */
public final class PatchPca {

    /**
     * Per-image RGB maps.
     *
     * @param grid patches per side
     * @param rgb {@code rgb[image][patch * 3 + channel]} in [0, 1]
     * @param foreground {@code foreground[image][patch]}
     * @param explained share of the variance of the first component of the first PCA
     */
    public record Maps(int grid, float[][] rgb, boolean[][] foreground, double explained) {}

    private PatchPca() {}

    /**
     * Computes the maps.
     *
     * @param tokens one row per image of {@code grid² · D} patch tokens
     * @param grid patches per side
     * @return the maps
     */
    public static Maps compute(FeatureSet tokens, int grid) {
        int np = grid * grid;
        int d = tokens.dim() / np;
        int n = tokens.n() * np;
        float[] x = tokens.data();
        // ---- first PCA over every patch: the foreground split
        double[] mean = mean(x, n, d, null);
        double[][] cov = covariance(x, n, d, mean, null);
        double[][] top1 = topEigenvectors(cov, 1, 0);
        double total = 0;
        for (int i = 0; i < d; i++) {
            total += cov[i][i];
        }
        double lambda1 = rayleigh(cov, top1[0]);
        double[] p1 = new double[n];
        for (int i = 0; i < n; i++) {
            p1[i] = project(x, i, d, mean, top1[0]);
        }
        // orient: border patches should be background (negative)
        double border = 0;
        int nb = 0;
        double inner = 0;
        int ni = 0;
        for (int img = 0; img < tokens.n(); img++) {
            for (int py = 0; py < grid; py++) {
                for (int px = 0; px < grid; px++) {
                    double v = p1[img * np + py * grid + px];
                    if (py == 0 || px == 0 || py == grid - 1 || px == grid - 1) {
                        border += v;
                        nb++;
                    } else {
                        inner += v;
                        ni++;
                    }
                }
            }
        }
        double sign = (nb > 0 ? border / nb : 0) > (ni > 0 ? inner / ni : 0) ? -1 : 1;
        boolean[] fg = new boolean[n];
        int nfg = 0;
        for (int i = 0; i < n; i++) {
            fg[i] = sign * p1[i] > 0;
            if (fg[i]) {
                nfg++;
            }
        }
        if (nfg < 3) { // degenerate (e.g. a random backbone): colour every patch
            Arrays.fill(fg, true);
            nfg = n;
        }
        // ---- second PCA over the foreground patches: 3 components → RGB
        double[] fmean = mean(x, n, d, fg);
        double[][] fcov = covariance(x, n, d, fmean, fg);
        double[][] top3 = topEigenvectors(fcov, Math.min(3, d), 1);
        double[][] proj = new double[n][3];
        double[] lo = {Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE};
        double[] hi = {-Double.MAX_VALUE, -Double.MAX_VALUE, -Double.MAX_VALUE};
        for (int i = 0; i < n; i++) {
            if (!fg[i]) {
                continue;
            }
            for (int c = 0; c < top3.length; c++) {
                proj[i][c] = project(x, i, d, fmean, top3[c]);
                lo[c] = Math.min(lo[c], proj[i][c]);
                hi[c] = Math.max(hi[c], proj[i][c]);
            }
        }
        float[][] rgb = new float[tokens.n()][np * 3];
        boolean[][] fgOut = new boolean[tokens.n()][np];
        for (int i = 0; i < n; i++) {
            int img = i / np;
            int p = i % np;
            fgOut[img][p] = fg[i];
            if (fg[i]) {
                for (int c = 0; c < 3; c++) {
                    double range = c < top3.length ? hi[c] - lo[c] : 0;
                    rgb[img][p * 3 + c] = range > 0 ? (float) ((proj[i][c] - lo[c]) / range) : 0.5f;
                }
            }
        }
        return new Maps(grid, rgb, fgOut, total > 0 ? lambda1 / total : 0);
    }

    private static double[] mean(float[] x, int n, int d, boolean[] mask) {
        double[] m = new double[d];
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (mask != null && !mask[i]) {
                continue;
            }
            count++;
            for (int c = 0; c < d; c++) {
                m[c] += x[i * d + c];
            }
        }
        for (int c = 0; c < d; c++) {
            m[c] /= Math.max(count, 1);
        }
        return m;
    }

    private static double[][] covariance(float[] x, int n, int d, double[] mean, boolean[] mask) {
        double[][] cov = new double[d][d];
        double[] row = new double[d];
        int count = 0;
        for (int i = 0; i < n; i++) {
            if (mask != null && !mask[i]) {
                continue;
            }
            count++;
            for (int c = 0; c < d; c++) {
                row[c] = x[i * d + c] - mean[c];
            }
            for (int a = 0; a < d; a++) {
                double ra = row[a];
                if (ra == 0) {
                    continue;
                }
                for (int b = a; b < d; b++) {
                    cov[a][b] += ra * row[b];
                }
            }
        }
        for (int a = 0; a < d; a++) {
            for (int b = a; b < d; b++) {
                cov[a][b] /= Math.max(count - 1, 1);
                cov[b][a] = cov[a][b];
            }
        }
        return cov;
    }

    /**
     * The {@code k} leading eigenvectors of a symmetric positive semi-definite matrix by orthogonal (subspace)
     * iteration with Gram–Schmidt, 300 sweeps.
     */
    static double[][] topEigenvectors(double[][] a, int k, long seed) {
        int d = a.length;
        SplittableRandom rng = new SplittableRandom(seed + 17);
        double[][] q = new double[k][d];
        for (double[] v : q) {
            for (int i = 0; i < d; i++) {
                v[i] = rng.nextDouble() - 0.5;
            }
        }
        orthonormalize(q);
        for (int it = 0; it < 300; it++) {
            double[][] z = new double[k][d];
            for (int j = 0; j < k; j++) {
                for (int r = 0; r < d; r++) {
                    double s = 0;
                    for (int c = 0; c < d; c++) {
                        s += a[r][c] * q[j][c];
                    }
                    z[j][r] = s;
                }
            }
            orthonormalize(z);
            q = z;
        }
        return q;
    }

    private static void orthonormalize(double[][] v) {
        for (int j = 0; j < v.length; j++) {
            for (int p = 0; p < j; p++) {
                double dot = 0;
                for (int i = 0; i < v[j].length; i++) {
                    dot += v[j][i] * v[p][i];
                }
                for (int i = 0; i < v[j].length; i++) {
                    v[j][i] -= dot * v[p][i];
                }
            }
            double norm = 0;
            for (double e : v[j]) {
                norm += e * e;
            }
            norm = Math.sqrt(norm);
            if (norm < 1e-300) {
                v[j][j % v[j].length] = 1;
                norm = 1;
            }
            for (int i = 0; i < v[j].length; i++) {
                v[j][i] /= norm;
            }
        }
    }

    private static double rayleigh(double[][] a, double[] v) {
        double s = 0;
        for (int r = 0; r < v.length; r++) {
            double t = 0;
            for (int c = 0; c < v.length; c++) {
                t += a[r][c] * v[c];
            }
            s += v[r] * t;
        }
        return s;
    }

    private static double project(float[] x, int i, int d, double[] mean, double[] v) {
        double s = 0;
        for (int c = 0; c < d; c++) {
            s += (x[i * d + c] - mean[c]) * v[c];
        }
        return s;
    }
}
