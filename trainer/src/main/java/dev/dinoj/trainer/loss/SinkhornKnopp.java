package dev.dinoj.trainer.loss;

import ai.djl.ndarray.NDArray;
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
        NDArray q = Scalars.div(teacherOutput, teacherTemp).exp().transpose(); // (K, n)
        long k = q.getShape().get(0);
        NDArray total = sums.sum(q.sum());
        q = q.div(total);
        for (int it = 0; it < iterations; it++) {
            NDArray rows = sums.sum(q.sum(new int[] {1}, true)); // (K, 1)
            q = Scalars.div(q.div(rows), k);
            q = Scalars.div(q.div(q.sum(new int[] {0}, true)), globalSamples); // (K, n)
        }
        return Scalars.mul(q, globalSamples).transpose(); // (n, K)
    }
}
