package dev.dinoj.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.model.GradMode;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.Test;

/**
 * Training on a thread whose PyTorch autograd switch is on (any thread but the one that initialised DJL's engine:
 * a cluster node whose curation stage used DJL first) must give the same steps as on a thread where it is off. It
 * failed at the third step with "Trying to backward through the graph a second time": the teacher, copied from the
 * student outside the gradient collector, kept a graph back to the student.
 */
class GradModeTest {

    /** Losses of 4 steps on a fresh thread whose grad mode is set to {@code gradMode} first. */
    private static double[] losses(boolean gradMode) throws Exception {
        TrainSettings s = TrainSettings.load("fmnist-pico", List.of());
        Engine.getInstance(); // initialised here, not on the training thread
        ExecutorService thread = Executors.newSingleThreadExecutor();
        try {
            return CompletableFuture.supplyAsync(
                            () -> {
                                JniUtils.setGradMode(gradMode);
                                try (NDManager m = NDManager.newBaseManager();
                                        SslMetaArch model = SslMetaArch.create(m, s.ssl(), 3)) {
                                    double[] out = new double[4];
                                    for (int step = 0; step < out.length; step++) {
                                        try (NDManager sm = m.newSubManager()) {
                                            StepBatch batch = TestBatches.first(s, sm, new TestData(32, 20));
                                            out[step] = model.trainStep(
                                                            step,
                                                            batch,
                                                            s.schedules().at(step),
                                                            StepRandom.forStep(s.seed(), step))
                                                    .losses()
                                                    .total();
                                        }
                                        assertFalse(
                                                GradMode.isOnForThisThread(), "grad mode left on after step " + step);
                                    }
                                    return out;
                                } catch (Exception e) {
                                    throw new RuntimeException(e);
                                }
                            },
                            thread)
                    .get();
        } finally {
            thread.shutdown();
        }
    }

    @Test
    void aThreadWithAutogradOnTrainsLikeOneWithItOff() throws Exception {
        assertArrayEquals(losses(false), losses(true));
    }
}
