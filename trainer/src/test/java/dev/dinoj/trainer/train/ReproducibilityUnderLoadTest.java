package dev.dinoj.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dinoj.trainer.config.TrainSettings;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run is a function of its config, whatever else the JVM and the machine do: the same short run (4 steps, Gram anchoring
 * on, two loader threads) once quietly and once while other threads burn CPU and churn direct memory with frequent
 * full GCs gives bitwise the same checkpoint and losses. Before {@link dev.dinoj.trainer.model.Scalars}, the second
 * run read freed scalars in its backward passes (a NaN gradient norm within the first steps, or different bytes).
 */
class ReproducibilityUnderLoadTest {

    @Test
    void aRunUnderCpuLoadAndGcChurnIsBitwiseTheQuietRun(@TempDir Path tmp) throws Exception {
        List<String> sets = List.of(
                "train.max-steps=4",
                "checkpoint.every-steps=4",
                "data.loader-threads=2",
                "gram.use-loss=true",
                "gram.it-load-ema-teacher=1",
                "gram.update-frequency=2");
        TestData data = new TestData(64, 20);
        TrainLoop.Result quiet = new TrainingRun(TrainSettings.load("fmnist-pico", sets), tmp.resolve("a"), false, null)
                .withDataset(data)
                .run();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> load = new ArrayList<>();
        load.add(new Thread(
                () -> { // frees native memory (cleaners) and refills it with NaN
                    long n = 0;
                    while (!stop.get()) {
                        ByteBuffer b = ByteBuffer.allocateDirect(4096);
                        for (int i = 0; i < b.capacity(); i += 4) {
                            b.putFloat(i, Float.NaN);
                        }
                        if (++n % 50 == 0) {
                            System.gc();
                            try {
                                Thread.sleep(5);
                            } catch (InterruptedException e) {
                                return;
                            }
                        }
                    }
                },
                "gc-churn"));
        load.add(new Thread(
                () -> { // takes a core from PyTorch and the loader
                    double x = 0;
                    for (long n = 0; !stop.get(); n++) {
                        x += Math.sin(n);
                    }
                    if (x == 42) {
                        System.out.println(x);
                    }
                },
                "cpu-burn"));
        load.forEach(t -> {
            t.setDaemon(true);
            t.start();
        });
        TrainLoop.Result loaded;
        try {
            loaded = new TrainingRun(TrainSettings.load("fmnist-pico", sets), tmp.resolve("b"), false, null)
                    .withDataset(data)
                    .run();
        } finally {
            stop.set(true);
        }
        for (int i = 0; i < quiet.steps().size(); i++) {
            assertEquals(
                    quiet.steps().get(i).totalLoss(), loaded.steps().get(i).totalLoss(), "loss of step " + (i + 1));
        }
        for (String f : new String[] {
            "student.safetensors",
            "teacher.safetensors",
            "optimizer.safetensors",
            "centers.safetensors",
            "gram_teacher.safetensors"
        }) {
            assertArrayEquals(
                    Files.readAllBytes(tmp.resolve("a/checkpoints/step-00000004/" + f)),
                    Files.readAllBytes(tmp.resolve("b/checkpoints/step-00000004/" + f)),
                    f + " differs under load");
        }
    }
}
