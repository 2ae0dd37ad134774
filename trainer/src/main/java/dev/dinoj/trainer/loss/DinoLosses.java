package dev.dinoj.trainer.loss;

import ai.djl.ndarray.NDArray;
import dev.dinoj.trainer.model.Scalars;
import java.util.List;

/**
 * The loss terms of dinov2 (dinov2/loss): DINO cross-entropy on CLS tokens, iBOT cross-entropy on masked patch
 * tokens and the KoLeo regulariser.
 */
public final class DinoLosses {

    private DinoLosses() {}

    /**
     * DINO loss: Σ over student chunks s and teacher chunks t of −mean_rows Σ_k t · log_softmax(s / τ_s).
     * Each chunk is (B, K).
     */
    public static NDArray dino(List<NDArray> students, List<NDArray> teachers, double studentTemp) {
        NDArray total = null;
        for (NDArray s : students) {
            NDArray lsm = logSoftmax(s, studentTemp); // (B, K)
            for (NDArray t : teachers) {
                NDArray term;
                try (NDArray product = t.mul(lsm)) {
                    term = product.sum(new int[] {-1}).mean(); // scalar
                }
                total = total == null ? term.neg() : total.sub(term);
            }
        }
        return total;
    }

    /**
     * iBOT {@code forward_masked}: −Σ_i w_i Σ_k t_ik log_softmax(s_i / τ_s)_k / {@code nMaskRows}, over the masked
     * patches i with weights w_i = 1 / (masked patches of that image).
     *
     * @param students    (n, K) student head outputs of the masked patches
     * @param teachers    (n, K) centred teacher targets
     * @param masksWeight (n)
     * @param nMaskRows   number of global-crop images (2B) — the official normaliser
     */
    public static NDArray ibot(
            NDArray students, NDArray teachers, NDArray masksWeight, long nMaskRows, double studentTemp) {
        NDArray lsm = logSoftmax(students, studentTemp); // (n, K)
        NDArray perPatch;
        try (NDArray product = teachers.mul(lsm)) {
            perPatch = product.sum(new int[] {-1}); // (n)
        }
        return Scalars.div(perPatch.mul(masksWeight).sum().neg(), (float) nMaskRows);
    }

    /**
     * log_softmax(s / τ) over the last axis. The scaled copy is freed at once, and so is the product with the targets
     * in the callers: with 131072 prototypes each (n, K) copy is 0.5 MB per row, and only the log-softmax is needed
     * by the backward (the graph keeps it, whatever DJL closes).
     */
    private static NDArray logSoftmax(NDArray s, double studentTemp) {
        try (NDArray scaled = Scalars.div(s, (float) studentTemp)) {
            return scaled.logSoftmax(-1);
        }
    }

    /**
     * KoLeo (Sablayrolles et al. 2018) as dinov2's {@code KoLeoLoss}: L2-normalise (ε 1e-8), nearest neighbour by
     * inner product excluding self, −mean log(‖x − x_nn + ε‖ + ε).
     *
     * @param x (B, D)
     */
    public static NDArray koleo(NDArray x) {
        final double eps = 1e-8;
        NDArray xn = x.normalize(2, -1, eps); // (B, D)
        long b = xn.getShape().get(0);
        NDArray dots = xn.stopGradient().matMul(xn.stopGradient().transpose()); // (B, B)
        NDArray eye = dots.getManager().eye((int) b);
        NDArray nn = dots.mul(Scalars.add(eye.neg(), 1)).sub(eye).argMax(1); // diagonal → −1, then argmax
        NDArray neighbours = xn.get(nn); // (B, D)
        NDArray dist = Scalars.add(xn.sub(neighbours), (float) eps).norm(new int[] {-1}); // (B)
        return Scalars.add(dist, (float) eps).log().mean().neg();
    }
}
