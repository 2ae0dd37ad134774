package dev.dinoj.trainer.loss;

import ai.djl.ndarray.NDArray;
import dev.dinoj.trainer.model.Scalars;

/**
 * DINOv3's Gram anchoring loss (dinov3/loss/gram_loss.py): the mean squared difference between the patch-similarity
 * (Gram) matrices of the student's patch features and those of a Gram teacher. It constrains only how patches relate
 * to each other, not the features themselves, so the student may drift while its patch-level structure stays
 * anchored to an earlier, cleaner model.
 *
 * <p>The teacher features never receive a gradient (they are detached here, whatever their origin).
 */
public final class GramLoss {

    /**
     * @param normalized           L2-normalise every patch feature first (cosine similarities; dinov3 {@code normalized})
     * @param imgLevel             one N×N Gram matrix per image; false: one (B·N)×(B·N) matrix over the whole batch
     * @param removeNeg            clamp negative similarities to 0 in both matrices (their gradient stops there)
     * @param removeOnlyTeacherNeg clamp negative similarities to 0 in the teacher's matrix only
     */
    public record Options(boolean normalized, boolean imgLevel, boolean removeNeg, boolean removeOnlyTeacherNeg) {
        public Options {
            if (removeNeg && removeOnlyTeacherNeg) {
                throw new IllegalArgumentException("remove-neg and remove-only-teacher-neg exclude each other");
            }
        }
    }

    private GramLoss() {}

    /**
     * The Gram loss.
     *
     * @param student (B, N, D_s) patch features, or (n, D_s) selected patches (then {@code imgLevel} must be false)
     * @param teacher (B, N, D_t) or (n, D_t), the same patches; D_t may differ from D_s (only similarities are compared)
     * @return scalar mean over all entries of (S − T)², S and T the Gram matrices
     */
    public static NDArray loss(NDArray student, NDArray teacher, Options o) {
        int dims = student.getShape().dimension();
        if (o.imgLevel() && dims != 3) {
            throw new IllegalArgumentException(
                    "an image-level Gram matrix needs (B, N, D) features, got " + student.getShape());
        }
        NDArray t = teacher.stopGradient();
        NDArray s = student;
        if (o.normalized()) {
            t = t.normalize(2, -1, 1e-12); // unit rows, as F.normalize
            s = s.normalize(2, -1, 1e-12);
        }
        if (!o.imgLevel() && dims == 3) {
            t = t.reshape(-1, t.getShape().get(2)); // (B·N, D_t)
            s = s.reshape(-1, s.getShape().get(2)); // (B·N, D_s)
        }
        NDArray tSim = t.matMul(lastTwoSwapped(t)); // (B, N, N) or (n, n)
        NDArray sSim = s.matMul(lastTwoSwapped(s));
        if (o.removeNeg()) {
            tSim = Scalars.maximum(tSim, 0f);
            sSim = Scalars.maximum(sSim, 0f);
        } else if (o.removeOnlyTeacherNeg()) {
            // dinov3 clamps the teacher first and then zeroes student entries where the (already clamped) teacher is
            // negative — never — so only the teacher's negatives are removed; so here
            tSim = Scalars.maximum(tSim, 0f);
        }
        return sSim.sub(tSim).square().mean();
    }

    private static NDArray lastTwoSwapped(NDArray x) {
        return x.getShape().dimension() == 3 ? x.transpose(0, 2, 1) : x.transpose();
    }
}
