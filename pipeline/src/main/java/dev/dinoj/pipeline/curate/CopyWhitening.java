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
        for (int a = 0; a < d; a++) {
            for (int b = 0; b <= a; b++) {
                cov[a * d + b] /= Math.max(1, n - 1);
            }
        }
        return fromCovariance(mean, cov, d);
    }

    /**
     * The moments of the rows of {@code v} that {@link #fromMoments} reads, to be summed over parts of a pool: {@code
     * [rows, Σ v (d), Σ v vᵀ (d × d, lower triangle)]}.
     */
    static double[] moments(FloatMatrix v) {
        int d = v.cols();
        double[] m = new double[1 + d + d * d];
        m[0] = v.rows();
        for (int i = 0; i < v.rows(); i++) {
            int o = i * d;
            for (int a = 0; a < d; a++) {
                double va = v.data()[o + a];
                m[1 + a] += va;
                int row = 1 + d + a * d;
                for (int b = 0; b <= a; b++) {
                    m[row + b] += va * v.data()[o + b];
                }
            }
        }
        return m;
    }

    /** The whitening of a pool whose rows' {@link #moments} sum to {@code m} ({@code d} columns). */
    static CopyWhitening fromMoments(double[] m, int d) {
        if (m.length != 1 + d + d * d) {
            throw new IllegalArgumentException(m.length + " moments for " + d + " columns");
        }
        double n = m[0];
        double[] mean = new double[d];
        for (int a = 0; a < d; a++) {
            mean[a] = m[1 + a] / Math.max(1, n);
        }
        double[] cov = new double[d * d];
        for (int a = 0; a < d; a++) {
            for (int b = 0; b <= a; b++) {
                cov[a * d + b] = (m[1 + d + a * d + b] - n * mean[a] * mean[b]) / Math.max(1, n - 1);
            }
        }
        return fromCovariance(mean, cov, d);
    }

    /** {@code [d, mean (d), Cholesky factor (d × d)]}: what {@link #of} reads back (to send it to another node). */
    double[] toArray() {
        double[] out = new double[1 + d + d * d];
        out[0] = d;
        System.arraycopy(mean, 0, out, 1, d);
        System.arraycopy(chol, 0, out, 1 + d, d * d);
        return out;
    }

    /** The whitening {@link #toArray} wrote. */
    static CopyWhitening of(double[] a) {
        int d = a.length == 0 ? 0 : (int) a[0];
        if (d < 1 || a.length != 1 + d + d * d) {
            throw new IllegalArgumentException("a whitening of " + a.length + " values");
        }
        return new CopyWhitening(
                java.util.Arrays.copyOfRange(a, 1, 1 + d), java.util.Arrays.copyOfRange(a, 1 + d, a.length), d);
    }

    /** Shrinks the covariance's lower triangle {@code cov} (in place) and factors it. */
    private static CopyWhitening fromCovariance(double[] mean, double[] cov, int d) {
        double trace = 0;
        for (int a = 0; a < d; a++) {
            trace += cov[a * d + a];
        }
        double ridge = SHRINK * Math.max(trace / d, 1e-12);
        for (int a = 0; a < d; a++) {
            cov[a * d + a] += ridge;
        }
        Cholesky.factor(cov, d, 1e-18);
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
