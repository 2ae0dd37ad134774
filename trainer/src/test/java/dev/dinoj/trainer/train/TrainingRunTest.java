package dev.dinoj.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.dinoj.trainer.checkpoint.CheckpointException;
import dev.dinoj.trainer.checkpoint.Checkpoints;
import dev.dinoj.trainer.config.TrainSettings;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainingRunTest {

    static TrainSettings pico(String... extra) {
        List<String> sets =
                new ArrayList<>(List.of("train.max-steps=10", "checkpoint.every-steps=5", "data.loader-threads=2"));
        sets.addAll(List.of(extra));
        return TrainSettings.load("fmnist-pico", sets);
    }

    @Test
    void resumedRunReachesTheSameParametersAsAnUninterruptedOne(@TempDir Path tmp) throws Exception {
        TestData data = new TestData(64, 20);
        Path a = tmp.resolve("a");
        TrainLoop.Result full =
                new TrainingRun(pico(), a, false, null).withDataset(data).run();
        assertEquals(10, full.endStep());

        Path b = tmp.resolve("b");
        new TrainingRun(pico("train.max-steps=5"), b, false, null)
                .withDataset(data)
                .run();
        TrainLoop.Result resumed =
                new TrainingRun(pico(), b, true, null).withDataset(data).run();
        assertEquals(5, resumed.startStep());
        assertEquals(10, resumed.endStep());

        for (String f : new String[] {
            "student.safetensors", "teacher.safetensors", "optimizer.safetensors", "centers.safetensors"
        }) {
            assertArrayEquals(
                    Files.readAllBytes(a.resolve("checkpoints/step-00000010/" + f)),
                    Files.readAllBytes(b.resolve("checkpoints/step-00000010/" + f)),
                    f + " differs after resume");
        }
        // losses of steps 6..10 are identical too
        for (int i = 5; i < 10; i++) {
            assertEquals(
                    full.steps().get(i).totalLoss(), resumed.steps().get(i - 5).totalLoss(), "loss of step " + (i + 1));
        }
        List<String> lines = Files.readAllLines(b.resolve("metrics.jsonl"));
        assertEquals(10, lines.size(), "metrics.jsonl keeps one line per step across the resume");
    }

    @Test
    void lossesFallOnASmallDataset(@TempDir Path tmp) throws Exception {
        TrainLoop.Result r = new TrainingRun(pico("train.max-steps=30", "checkpoint.every-steps=100"), tmp, false, null)
                .withDataset(new TestData(64, 20))
                .run();
        double first = (r.steps().get(0).totalLoss()
                        + r.steps().get(1).totalLoss()
                        + r.steps().get(2).totalLoss())
                / 3;
        int n = r.steps().size();
        double last = (r.steps().get(n - 1).totalLoss()
                        + r.steps().get(n - 2).totalLoss()
                        + r.steps().get(n - 3).totalLoss())
                / 3;
        assertTrue(last < first - 0.3, "loss should fall: first " + first + ", last " + last);
    }

    @Test
    void truncatedCheckpointIsDetectedByChecksum(@TempDir Path tmp) throws Exception {
        new TrainingRun(pico("train.max-steps=5"), tmp, false, null)
                .withDataset(new TestData(64, 20))
                .run();
        Path f = tmp.resolve("checkpoints/step-00000005/student.safetensors");
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.setLength(raf.length() - 100);
        }
        CheckpointException e = assertThrows(
                CheckpointException.class,
                () -> new TrainingRun(pico(), tmp, true, null)
                        .withDataset(new TestData(64, 20))
                        .run());
        assertTrue(
                e.getMessage().contains("student.safetensors") && e.getMessage().contains("checksum"), e.getMessage());
        assertThrows(CheckpointException.class, () -> Checkpoints.verify(f.getParent()));

        // the teacher alone (backbone / distillation teacher / embedder) reads and verifies only its own files
        Path dir = f.getParent();
        Path teacher = dir.resolve(Checkpoints.TEACHER_FILE);
        assertEquals(dev.dinoj.trainer.checkpoint.AtomicDirectory.sha256(teacher), Checkpoints.teacherSha256(dir));
        assertTrue(
                Checkpoints.teacher(dir).containsKey("backbone.cls_token"), "teacher readable with a broken student");
        try (RandomAccessFile raf = new RandomAccessFile(teacher.toFile(), "rw")) {
            raf.setLength(raf.length() - 100);
        }
        CheckpointException t = assertThrows(CheckpointException.class, () -> Checkpoints.teacher(dir));
        assertTrue(
                t.getMessage().contains("teacher.safetensors") && t.getMessage().contains("checksum"), t.getMessage());
    }

    /**
     * Issue #17 item 3: {@code --resume} with a corrupt newest checkpoint continues from the newest one that verifies,
     * warning with the bad one's name; the bad one is kept (and not counted by {@code keep-last}, which would delete
     * the run's new checkpoints) until the run replaces it; when none verifies, the error names each.
     */
    @Test
    void resumeFallsBackToTheNewestCheckpointThatVerifies(@TempDir Path tmp) throws Exception {
        TestData data = new TestData(64, 20);
        new TrainingRun(pico("checkpoint.keep-last=2"), tmp, false, null)
                .withDataset(data)
                .run();
        Path five = tmp.resolve("checkpoints/step-00000005");
        Path ten = tmp.resolve("checkpoints/step-00000010");
        assertEquals(List.of(five, ten), Checkpoints.list(tmp));
        try (RandomAccessFile raf =
                new RandomAccessFile(ten.resolve("student.safetensors").toFile(), "rw")) {
            raf.setLength(raf.length() - 100);
        }

        List<String> warnings = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager();
                SslMetaArch model = TrainingRun.createModel(pico(), manager)) {
            Checkpoints.Loaded loaded =
                    Checkpoints.loadNewestVerified(tmp, model, warnings::add).orElseThrow();
            assertEquals(five, loaded.dir());
            assertEquals(5, loaded.state().step());
        }
        assertEquals(1, warnings.size(), warnings.toString());
        assertTrue(
                warnings.get(0).contains(ten.toString())
                        && warnings.get(0).contains("student.safetensors: checksum mismatch"),
                warnings.get(0));

        // keep-last 1, checkpoints at 6 and 8: step-10 (corrupt, newer) must not make them count as old
        TrainLoop.Result r = new TrainingRun(
                        pico("train.max-steps=8", "checkpoint.every-steps=2", "checkpoint.keep-last=1"),
                        tmp,
                        true,
                        null)
                .withDataset(data)
                .run();
        assertEquals(5, r.startStep(), "resumed from step-00000005");
        assertEquals(8, r.endStep());
        Path eight = tmp.resolve("checkpoints/step-00000008");
        assertEquals(eight, r.lastCheckpoint());
        assertEquals(List.of(eight, ten), Checkpoints.list(tmp), "the new checkpoint kept, the bad one left");
        Checkpoints.verify(eight);

        try (RandomAccessFile raf =
                new RandomAccessFile(eight.resolve("optimizer.safetensors").toFile(), "rw")) {
            raf.setLength(raf.length() - 1);
        }
        CheckpointException none = assertThrows(
                CheckpointException.class,
                () -> new TrainingRun(pico(), tmp, true, null).withDataset(data).run());
        assertTrue(
                none.getMessage().contains("none of the 2 checkpoint(s) verifies")
                        && none.getMessage().contains(eight + "/optimizer.safetensors")
                        && none.getMessage().contains(ten + "/student.safetensors"),
                none.getMessage());
    }

    @Test
    void divergenceStopsWithATypedErrorAndKeepsTheLastGoodCheckpoint(@TempDir Path tmp) throws Exception {
        TestData data = new TestData(64, 20);
        new TrainingRun(pico("train.max-steps=5"), tmp, false, null)
                .withDataset(data)
                .run();
        Path good = tmp.resolve("checkpoints/step-00000005");
        byte[] before = Files.readAllBytes(good.resolve("student.safetensors"));
        // a far too low teacher temperature overflows exp(t / τ) in Sinkhorn-Knopp: the targets become NaN
        DivergenceException e = assertThrows(
                DivergenceException.class,
                () -> new TrainingRun(
                                pico("teacher.teacher-temp=1e-6", "teacher.warmup-teacher-temp=1e-6"), tmp, true, null)
                        .withDataset(data)
                        .run());
        assertEquals(5, e.step(), "diverged at the first resumed step (index 5)");
        assertTrue(e.getMessage().contains("last checkpoint is intact"), e.getMessage());
        assertEquals(List.of(good), Checkpoints.list(tmp), "no checkpoint written after the last good one");
        Checkpoints.verify(good);
        assertArrayEquals(before, Files.readAllBytes(good.resolve("student.safetensors")));
    }

    @Test
    void highResolutionPhaseSwitchesCropSizesAndResumesAcrossIt(@TempDir Path tmp) throws Exception {
        TestData data = new TestData(64, 20);
        TrainLoop.Result r = new TrainingRun(
                        pico("train.max-steps=6", "high-res.start-step=3", "checkpoint.every-steps=2"),
                        tmp.resolve("a"),
                        false,
                        null)
                .withDataset(data)
                .run();
        assertEquals(
                List.of(16, 16, 16, 24, 24, 24),
                r.steps().stream().map(StepReport::globalCropSize).toList());
        r.steps().forEach(s -> assertTrue(Double.isFinite(s.totalLoss())));
        // stop inside the first phase, resume across the switch: same parameters as the uninterrupted run
        new TrainingRun(
                        pico("train.max-steps=2", "high-res.start-step=3", "checkpoint.every-steps=2"),
                        tmp.resolve("b"),
                        false,
                        null)
                .withDataset(data)
                .run();
        new TrainingRun(
                        pico("train.max-steps=6", "high-res.start-step=3", "checkpoint.every-steps=2"),
                        tmp.resolve("b"),
                        true,
                        null)
                .withDataset(data)
                .run();
        assertArrayEquals(
                Files.readAllBytes(tmp.resolve("a/checkpoints/step-00000006/teacher.safetensors")),
                Files.readAllBytes(tmp.resolve("b/checkpoints/step-00000006/teacher.safetensors")));
    }
}
