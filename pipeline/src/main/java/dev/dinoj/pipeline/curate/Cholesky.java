package dev.dinoj.pipeline.curate;

/**
 * The Cholesky factor of a small symmetric positive-definite matrix held as the lower triangle of a row-major
 * {@code d × d} array, and the solve with it: the copy verifier's normal equations ({@link CopyVerifier}) and the
 * descriptors' whitening ({@link CopyWhitening}).
 */
final class Cholesky {
    private Cholesky() {}

    /**
     * Replaces the lower triangle of {@code a} by its factor {@code L} ({@code a = L·Lᵀ}). A pivot at or below zero
     * fails (false, {@code a} half overwritten) unless {@code floor > 0}, which clamps every pivot to at least it.
     */
    static boolean factor(double[] a, int d, double floor) {
        for (int j = 0; j < d; j++) {
            double s = a[j * d + j];
            for (int k = 0; k < j; k++) {
                s -= a[j * d + k] * a[j * d + k];
            }
            if (floor > 0) {
                s = Math.max(s, floor);
            } else if (s <= 0) {
                return false;
            }
            double ljj = Math.sqrt(s);
            a[j * d + j] = ljj;
            for (int i = j + 1; i < d; i++) {
                double t = a[i * d + j];
                for (int k = 0; k < j; k++) {
                    t -= a[i * d + k] * a[j * d + k];
                }
                a[i * d + j] = t / ljj;
            }
        }
        return true;
    }

    /**
     * Solves {@code m·z = r} for the symmetric system whose lower triangle is in {@code m} (left unchanged), with a
     * ridge of {@code 1e-9} of the mean diagonal; null when it is singular.
     */
    static double[] solve(double[] m, double[] r, int d) {
        double[] l = m.clone();
        double trace = 0;
        for (int i = 0; i < d; i++) {
            trace += m[i * d + i];
        }
        double ridge = 1e-9 * trace / d;
        for (int i = 0; i < d; i++) {
            l[i * d + i] += ridge;
        }
        if (!factor(l, d, 0)) {
            return null;
        }
        double[] z = new double[d];
        for (int i = 0; i < d; i++) {
            double t = r[i];
            for (int k = 0; k < i; k++) {
                t -= l[i * d + k] * z[k];
            }
            z[i] = t / l[i * d + i];
        }
        for (int i = d - 1; i >= 0; i--) {
            double t = z[i];
            for (int k = i + 1; k < d; k++) {
                t -= l[k * d + i] * z[k];
            }
            z[i] = t / l[i * d + i];
        }
        return z;
    }
}
