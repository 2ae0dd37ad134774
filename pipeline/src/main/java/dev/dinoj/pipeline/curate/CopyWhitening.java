package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.search.FloatMatrix;

/** Whitening of the descriptors: {@code L⁻¹ (v − μ)} with {@code L Lᵀ} the shrunk covariance, L2-normalised. */
final class CopyWhitening {
    /** Shrinkage: this fraction of the mean variance added to the covariance's diagonal. */
    private static final double SHRINK = 0.1;

    private final double[] mean;
    private final double[] chol;
    private final int d;

    private CopyWhitening(double[] mean, double[] chol, int d) {
        this.mean = mean;
        this.chol = chol;
        this.d = d;
    }

    static CopyWhitening fit(FloatMatrix v) {
        int d = v.cols();
        int n = v.rows();
        double[] mean = new double[d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                mean[j] += v.data()[i * d + j];
            }
        }
        for (int j = 0; j < d; j++) {
            mean[j] /= Math.max(1, n);
        }
        double[] cov = new double[d * d];
        double[] c = new double[d];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                c[j] = v.data()[i * d + j] - mean[j];
            }
            for (int a = 0; a < d; a++) {
                double ca = c[a];
                for (int b = 0; b <= a; b++) {
                    cov[a * d + b] += ca * c[b];
                }
            }
        }
        double trace = 0;
        for (int a = 0; a < d; a++) {
            for (int b = 0; b <= a; b++) {
                cov[a * d + b] /= Math.max(1, n - 1);
            }
            trace += cov[a * d + a];
        }
        double ridge = SHRINK * Math.max(trace / d, 1e-12);
        for (int a = 0; a < d; a++) {
            cov[a * d + a] += ridge;
        }
        // Cholesky of the lower triangle, in place
        for (int j = 0; j < d; j++) {
            double s = cov[j * d + j];
            for (int k = 0; k < j; k++) {
                s -= cov[j * d + k] * cov[j * d + k];
            }
            double ljj = Math.sqrt(Math.max(s, 1e-18));
            cov[j * d + j] = ljj;
            for (int i = j + 1; i < d; i++) {
                double t = cov[i * d + j];
                for (int k = 0; k < j; k++) {
                    t -= cov[i * d + k] * cov[j * d + k];
                }
                cov[i * d + j] = t / ljj;
            }
        }
        return new CopyWhitening(mean, cov, d);
    }

    FloatMatrix apply(FloatMatrix v) {
        float[] out = new float[v.data().length];
        double[] z = new double[d];
        for (int i = 0; i < v.rows(); i++) {
            double norm = 0;
            for (int a = 0; a < d; a++) {
                double t = v.data()[i * d + a] - mean[a];
                for (int k = 0; k < a; k++) {
                    t -= chol[a * d + k] * z[k];
                }
                z[a] = t / chol[a * d + a];
                norm += z[a] * z[a];
            }
            double inv = 1 / Math.max(Math.sqrt(norm), 1e-12);
            for (int a = 0; a < d; a++) {
                out[i * d + a] = (float) (z[a] * inv);
            }
        }
        return new FloatMatrix(v.rows(), d, out);
    }
}
