package dev.dinoj.trainer.loss;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import org.junit.jupiter.api.Test;

/** DINOv3 Gram loss: hand-computed cases, options, and that only the student gets a gradient. */
class GramLossTest {

    private static final GramLoss.Options IMG = new GramLoss.Options(true, true, false, false);

    /*
     * Image 1: student patches a = (1, 0), b = (1, 1) → unit a, b = (1, 1)/√2: S = [[1, 1/√2], [1/√2, 1]].
     *          teacher patches (0, 1), (0, −2) → (0, 1), (0, −1): T = [[1, −1], [−1, 1]].
     *          (S − T)² = 0 on the diagonal, (1 + 1/√2)² off it: mean = (1 + 1/√2)² / 2 = 1.4571068.
     * Image 2: student (0, 1), (0, 1); teacher (1, 0), (1, 0): S = T = all ones → 0.
     */
    private static final float[] STUDENT = {1, 0, 1, 1, 0, 1, 0, 1};
    private static final float[] TEACHER = {0, 1, 0, -2, 1, 0, 1, 0};

    private static float eval(NDManager m, float[] s, float[] t, long b, GramLoss.Options o) {
        return GramLoss.loss(m.create(s, new Shape(b, 2, 2)), m.create(t, new Shape(b, 2, 2)), o)
                .getFloat();
    }

    @Test
    void knownAnswers() {
        try (NDManager m = NDManager.newBaseManager()) {
            float[] s1 = java.util.Arrays.copyOf(STUDENT, 4);
            float[] t1 = java.util.Arrays.copyOf(TEACHER, 4);
            assertEquals(1.4571068, eval(m, s1, t1, 1, IMG), 1e-6);
            // remove-neg clamps T's −1 to 0: off-diagonal (1/√2)² → 2 · 0.5 / 4
            assertEquals(0.25, eval(m, s1, t1, 1, new GramLoss.Options(true, true, true, false)), 1e-6);
            // unnormalised: S = [[1, 1], [1, 2]], T = [[1, −2], [−2, 4]]: (0 + 9 + 9 + 4) / 4
            assertEquals(5.5, eval(m, s1, t1, 1, new GramLoss.Options(false, true, false, false)), 1e-5);
            // two images, image level: the second image adds 4 zero entries: 2 (1 + 1/√2)² / 8
            assertEquals(0.7285534, eval(m, STUDENT, TEACHER, 2, IMG), 1e-6);
            // batch level: one 4×4 matrix with the cross-image entries b·c, b·d = 1/√2 vs 0 as well:
            // (2 (1 + 1/√2)² + 4 · 0.5) / 16
            assertEquals(
                    0.4892767, eval(m, STUDENT, TEACHER, 2, new GramLoss.Options(true, false, false, false)), 1e-6);
            // a negative student similarity: a = (1, 0), b = (−1, 1)/√2 → S_ab = −1/√2; T_ab = −1
            float[] sNeg = {1, 0, -1, 1};
            assertEquals(2 * Math.pow(1 - 1 / Math.sqrt(2), 2) / 4, eval(m, sNeg, t1, 1, IMG), 1e-6);
            assertEquals(0.0, eval(m, sNeg, t1, 1, new GramLoss.Options(true, true, true, false)), 1e-7);
            assertEquals(0.25, eval(m, sNeg, t1, 1, new GramLoss.Options(true, true, false, true)), 1e-6);
        }
    }

    @Test
    void featureWidthsMayDifferAndRowsFormsNeedBatchLevel() {
        try (NDManager m = NDManager.newBaseManager()) {
            // teacher of width 3 with the same similarities as the width-2 student → 0
            NDArray s = m.create(new float[] {1, 0, 0, 1}, new Shape(1, 2, 2));
            NDArray t = m.create(new float[] {0, 0, 5, 0, 3, 0}, new Shape(1, 2, 3));
            assertEquals(0f, GramLoss.loss(s, t, IMG).getFloat(), 1e-7);
            NDArray rows = m.create(STUDENT, new Shape(4, 2));
            assertThrows(IllegalArgumentException.class, () -> GramLoss.loss(rows, rows, IMG));
            float flat = GramLoss.loss(
                            rows, m.create(TEACHER, new Shape(4, 2)), new GramLoss.Options(true, false, false, false))
                    .getFloat();
            assertEquals(0.4892767, flat, 1e-6);
            assertThrows(IllegalArgumentException.class, () -> new GramLoss.Options(true, true, true, true));
        }
    }

    @Test
    void onlyTheStudentReceivesAGradient() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray s = m.create(STUDENT, new Shape(2, 2, 2));
            NDArray t = m.create(TEACHER, new Shape(2, 2, 2));
            s.setRequiresGradient(true);
            t.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(GramLoss.loss(s, t, IMG));
            }
            for (float g : t.getGradient().toFloatArray()) {
                assertEquals(0f, g, "the Gram teacher's features get no gradient");
            }
            double norm = 0;
            for (float g : s.getGradient().toFloatArray()) {
                norm += g * g;
            }
            assertTrue(norm > 1e-3, "the student's features do");
            // finite-difference check of one student coordinate (float64 arithmetic on the host)
            float[] grad = s.getGradient().toFloatArray();
            double h = 1e-3;
            float[] plus = STUDENT.clone();
            plus[2] += (float) h;
            float[] minus = STUDENT.clone();
            minus[2] -= (float) h;
            double fd = (eval(m, plus, TEACHER, 2, IMG) - eval(m, minus, TEACHER, 2, IMG)) / (2 * h);
            assertEquals(fd, grad[2], 2e-3);
        }
    }
}
