package dev.dinoj.trainer.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.dinoj.trainer.model.Scalars;

/**
 * Sinkhorn-Knopp centering of teacher outputs (dinov2 {@code sinkhorn_knopp_teacher}): Q = exp(t / τ)ᵀ (K × n),
 * normalised to total mass 1, then {@code iterations} rounds of row normalisation (each prototype gets 1/K) and
 * column normalisation (each sample 1/B), finally scaled by B so each sample's assignment sums to 1.
 * Row and total sums are global over ranks; B is the global sample count.
 */
public final class SinkhornKnopp {

    private SinkhornKnopp() {}

    /**
     * @param teacherOutput (n, K) head outputs of this rank's samples (no gradient)
     * @param teacherTemp   τ
     * @param globalSamples B: the number of samples over all ranks
     * @return (n, K) assignments, rows summing to 1
     */
    public static NDArray apply(
            NDArray teacherOutput, double teacherTemp, double globalSamples, int iterations, GlobalSum sums) {
        // in place on one (K, n) array: the official sequence of operations (bitwise the same values), without the
        // dozen (n, K) copies the out-of-place form allocates (n·K·4 bytes each: 0.5 MB per row at 131072 prototypes)
        NDArray q;
        try (NDArray scaled = Scalars.div(teacherOutput, teacherTemp)) {
            q = scaled.exp().transpose(); // (K, n), a view of the (n, K) exp
        }
        long k = q.getShape().get(0);
        NDManager m = q.getManager();
        try (NDArray local = q.sum()) {
            q.divi(sums.sum(local));
        }
        try (NDArray kk = Scalars.of(m, k);
                NDArray bb = Scalars.of(m, globalSamples)) {
            for (int it = 0; it < iterations; it++) {
                try (NDArray rows = q.sum(new int[] {1}, true)) { // (K, 1)
                    q.divi(sums.sum(rows)).divi(kk);
                }
                try (NDArray cols = q.sum(new int[] {0}, true)) { // (1, n)
                    q.divi(cols).divi(bb);
                }
            }
            return q.muli(bb).transpose(); // (n, K)
        }
    }
}
