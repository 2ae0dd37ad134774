package dev.dinoj.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.io.NpyArray;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** A non-finite loss stops the step with {@link DivergenceException} before anything is updated. */
class DivergenceTest {

    private static final int B = 2;
    private static final int G = 16; // pico global crops
    private static final int L = 8; // pico local crops
    private static final int N_LOCAL = 2;

    /** A pico batch: random pixels (one NaN in the first global crop if asked), patches 0 and 1 of image 0 masked. */
    static StepBatch batch(NDManager m, boolean nan, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] global = new float[2 * B * 3 * G * G];
        for (int i = 0; i < global.length; i++) {
            global[i] = (float) (r.nextDouble() * 2 - 1);
        }
        if (nan) {
            global[37] = Float.NaN;
        }
        float[] local = new float[N_LOCAL * B * 3 * L * L];
        for (int i = 0; i < local.length; i++) {
            local[i] = (float) (r.nextDouble() * 2 - 1);
        }
        int n = (G / 4) * (G / 4);
        boolean[] masks = new boolean[2 * B * n];
        masks[0] = true;
        masks[1] = true;
        return StepBatch.fromHost(
                m, B, G, global, N_LOCAL, L, local, masks, new long[] {0, 1}, new float[] {0.5f, 0.5f}, 2);
    }

    private static void assertSame(Map<String, NpyArray> want, Map<String, NpyArray> got, String what) {
        assertEquals(want.keySet(), got.keySet());
        for (String k : want.keySet()) {
            assertArrayEquals(want.get(k).floats(), got.get(k).floats(), what + " " + k + " changed");
        }
    }

    @Test
    void nanPixelsThrowAndLeaveTheModelUntouched() {
        TrainSettings s = TrainSettings.load("fmnist-pico", List.of());
        try (NDManager m = NDManager.newBaseManager();
                SslMetaArch model = SslMetaArch.create(m, s.ssl(), 3)) {
            // one good step first so the optimiser has moments and the teacher differs from the student
            model.trainStep(0, batch(m, false, 1), s.schedules().at(5), new SplittableRandom(1));
            Map<String, NpyArray> student = model.student().toHost();
            Map<String, NpyArray> teacher = model.teacher().toHost();
            Map<String, NpyArray> moments = model.optimizer().stateHost();
            long steps = model.optimizer().stepCount();

            DivergenceException e = assertThrows(
                    DivergenceException.class,
                    () -> model.trainStep(1, batch(m, true, 2), s.schedules().at(6), new SplittableRandom(2)));
            assertEquals(1, e.step());
            assertTrue(e.getMessage().contains("step 1") && e.getMessage().contains("NaN"), e.getMessage());

            assertSame(student, model.student().toHost(), "student");
            assertSame(teacher, model.teacher().toHost(), "teacher");
            assertSame(moments, model.optimizer().stateHost(), "AdamW moment");
            assertEquals(steps, model.optimizer().stepCount());

            // the model still trains on a good batch afterwards
            SslMetaArch.StepResult ok =
                    model.trainStep(1, batch(m, false, 3), s.schedules().at(6), new SplittableRandom(3));
            assertTrue(Double.isFinite(ok.losses().total()));
        }
    }

    /** The center the next step would use: pending statistics folded in (dinov2's apply_center_update). */
    private static float[] effectiveCenter(dev.dinoj.trainer.loss.SoftmaxCenter c, int prototypes) {
        try (NDManager m = NDManager.newBaseManager();
                dev.dinoj.trainer.loss.SoftmaxCenter copy =
                        new dev.dinoj.trainer.loss.SoftmaxCenter(m, prototypes, 0.9)) {
            copy.restore(c.centerHost(), c.pendingHost(), c.pendingCount());
            copy.applyPending();
            return copy.centerHost();
        }
    }

    @Test
    void softmaxCentersAreNotPoisonedByADivergedStep() {
        TrainSettings s = TrainSettings.load("fmnist-pico", List.of("train.centering=centering"));
        int k = s.ssl().dinoHead().prototypes();
        try (NDManager m = NDManager.newBaseManager();
                SslMetaArch model = SslMetaArch.create(m, s.ssl(), 3)) {
            model.trainStep(0, batch(m, false, 1), s.schedules().at(5), new SplittableRandom(1));
            float[] dino = effectiveCenter(model.dinoCenter(), k);
            float[] ibot = effectiveCenter(model.ibotCenter(), k);
            assertThrows(
                    DivergenceException.class,
                    () -> model.trainStep(1, batch(m, true, 2), s.schedules().at(6), new SplittableRandom(2)));
            assertArrayEquals(
                    dino, effectiveCenter(model.dinoCenter(), k), "dino center state changed by the diverged step");
            assertArrayEquals(
                    ibot, effectiveCenter(model.ibotCenter(), k), "ibot center state changed by the diverged step");
            // the consequence: a good step afterwards still has finite losses
            SslMetaArch.StepResult next =
                    model.trainStep(1, batch(m, false, 3), s.schedules().at(6), new SplittableRandom(3));
            assertTrue(
                    Double.isFinite(next.losses().total()),
                    "loss after the diverged step: " + next.losses().total());
        }
    }
}
