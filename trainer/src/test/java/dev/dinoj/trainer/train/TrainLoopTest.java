package dev.dinoj.trainer.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.pipeline.masking.CollatedBatch;
import dev.dinoj.trainer.collective.ShutdownStop;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.schedule.Schedules;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loop's own decisions, with a recording stepper in place of the step (the step itself is tested by
 * TrainingRunTest and the sharded tests): phases, checkpoint cadence, the sampler position handed from phase to
 * phase and from a checkpoint, metrics on resume, and an agreed stop.
 */
class TrainLoopTest {

    /** 10 steps of 2 images; checkpoints every 4; the high-resolution phase (24 px) from step 6; log every 5. */
    private static TrainSettings settings() {
        return TrainSettings.load(
                "fmnist-pico",
                List.of(
                        "train.batch-size=2",
                        "train.max-steps=10",
                        "checkpoint.every-steps=4",
                        "high-res.start-step=6",
                        "train.log-every=5"));
    }

    /** Records what the loop asks of it; stops (as if signalled) after {@code stopAfter} steps. */
    private static final class RecordingStepper implements TrainLoop.Stepper {
        final TrainLoop.Resumed resumed;
        final long stopAfter;
        final List<Long> steps = new ArrayList<>();
        final List<Schedules.Values> values = new ArrayList<>();
        long sleepMillis;
        final List<Integer> globalSizes = new ArrayList<>();
        final List<long[]> checkpoints = new ArrayList<>();
        boolean finished;

        RecordingStepper(TrainLoop.Resumed resumed, long stopAfter) {
            this.resumed = resumed;
            this.stopAfter = stopAfter;
        }

        @Override
        public TrainLoop.Resumed resume(Path outDir) {
            return resumed;
        }

        @Override
        public Path latestCheckpoint(Path outDir) {
            return null;
        }

        @Override
        public TrainLoop.StepOutcome step(long step, CollatedBatch batch, Schedules.Values schedule) {
            steps.add(step);
            values.add(schedule);
            globalSizes.add(batch.globalSize());
            if (sleepMillis > 0) {
                try {
                    Thread.sleep(sleepMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return new TrainLoop.StepOutcome(Map.of("dino_local_crops_loss", 1.0), 1.0, Map.of(), "");
        }

        @Override
        public Path checkpoint(Path outDir, long steps, long samplerPosition) {
            checkpoints.add(new long[] {steps, samplerPosition});
            return outDir.resolve("checkpoints/step-" + steps);
        }

        @Override
        public boolean[] agreeToStop(boolean timeUp, boolean signalled) {
            boolean stop = steps.get(steps.size() - 1) + 1 == stopAfter;
            return new boolean[] {stop || timeUp, stop};
        }

        @Override
        public void finish() {
            finished = true;
        }
    }

    /** Blank batches of the recipe's crop sizes; the sampler advances by the batch size per step. */
    private static TrainLoop.Batches blankBatches(List<long[]> opened) {
        return (recipe, first, end, position) -> {
            opened.add(new long[] {first, end, position});
            return new TrainLoop.BatchSource() {
                long pos = position;

                @Override
                public CollatedBatch next() {
                    int g = recipe.crops().globalCropsSize();
                    int l = recipe.crops().localCropsSize();
                    int n = recipe.crops().localCropsNumber();
                    pos += 2;
                    return new CollatedBatch(
                            2,
                            g,
                            l,
                            n,
                            new float[2 * 2 * 3 * g * g],
                            new float[n * 2 * 3 * l * l],
                            new boolean[4],
                            new long[0],
                            new float[0],
                            0,
                            0);
                }

                @Override
                public long position() {
                    return pos;
                }

                @Override
                public void close() {}
            };
        };
    }

    private static final TrainLoop.Reporter QUIET = new TrainLoop.Reporter() {
        @Override
        public void info(String line) {}

        @Override
        public void step(StepReport report, String logLine) {}
    };

    @Test
    void shouldRunBothPhasesAndCheckpointOnCadenceAndAtTheEnd(@TempDir Path dir) throws Exception {
        RecordingStepper stepper = new RecordingStepper(TrainLoop.Resumed.START, -1);
        List<long[]> opened = new ArrayList<>();
        List<String> logged = new ArrayList<>();
        TrainLoop.Reporter reporter = new TrainLoop.Reporter() {
            @Override
            public void info(String line) {
                logged.add(line);
            }

            @Override
            public void step(StepReport report, String logLine) {
                if (logLine != null) {
                    logged.add(logLine);
                }
            }
        };
        TrainLoop.Result r;
        try (ShutdownStop stop = new ShutdownStop(ShutdownStop.DEFAULT_GRACE)) {
            r = new TrainLoop(settings(), dir, stepper, blankBatches(opened), reporter, true).run(stop);
        }
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L), stepper.steps);
        assertEquals(List.of(16, 16, 16, 16, 16, 16, 24, 24, 24, 24), stepper.globalSizes, "high-res from step 6");
        assertEquals(2, opened.size(), "one batch source per phase");
        assertEquals(List.of(0L, 6L, 0L), List.of(opened.get(0)[0], opened.get(0)[1], opened.get(0)[2]));
        assertEquals(
                List.of(6L, 10L, 12L),
                List.of(opened.get(1)[0], opened.get(1)[1], opened.get(1)[2]),
                "the second phase continues the sampler where the first left it");
        assertEquals(
                List.of(4L, 8L, 10L),
                stepper.checkpoints.stream().map(c -> c[0]).toList());
        assertEquals(
                List.of(8L, 16L, 20L),
                stepper.checkpoints.stream().map(c -> c[1]).toList());
        assertTrue(stepper.finished);
        assertEquals(0, r.startStep());
        assertEquals(10, r.endStep());
        assertEquals(10, Files.readAllLines(dir.resolve("metrics.jsonl")).size());
        assertTrue(logged.stream().anyMatch(l -> l.startsWith("High-resolution phase from step 6")), logged.toString());
        assertEquals(2, logged.stream().filter(l -> l.startsWith("step ")).count(), "steps 5 and 10 are logged");
    }

    @Test
    void shouldContinueFromTheResumedStepAndDropLaterMetricsLines(@TempDir Path dir) throws Exception {
        List<String> old = new ArrayList<>();
        for (int s = 1; s <= 9; s++) {
            old.add("{\"step\":" + s + "}");
        }
        old.add("{\"step\":"); // cut short by a crash
        Files.write(dir.resolve("metrics.jsonl"), old);
        RecordingStepper stepper = new RecordingStepper(new TrainLoop.Resumed(7, 14), -1);
        List<long[]> opened = new ArrayList<>();
        TrainLoop.Result r;
        try (ShutdownStop stop = new ShutdownStop(ShutdownStop.DEFAULT_GRACE)) {
            r = new TrainLoop(settings(), dir, stepper, blankBatches(opened), QUIET, true).run(stop);
        }
        assertEquals(List.of(7L, 8L, 9L), stepper.steps);
        assertEquals(1, opened.size());
        assertEquals(List.of(7L, 10L, 14L), List.of(opened.get(0)[0], opened.get(0)[1], opened.get(0)[2]));
        assertEquals(7, r.startStep());
        List<String> lines = Files.readAllLines(dir.resolve("metrics.jsonl"));
        assertEquals(10, lines.size(), "steps 1-7 kept, 8-10 written again");
        assertTrue(lines.get(7).startsWith("{\"step\":8,"), lines.get(7));
    }

    @Test
    void shouldCheckpointAndEndAfterAnAgreedStop(@TempDir Path dir) throws Exception {
        RecordingStepper stepper = new RecordingStepper(TrainLoop.Resumed.START, 3);
        List<String> info = new ArrayList<>();
        TrainLoop.Result r;
        try (ShutdownStop stop = new ShutdownStop(ShutdownStop.DEFAULT_GRACE)) {
            r = new TrainLoop(
                            settings(),
                            dir,
                            stepper,
                            blankBatches(new ArrayList<>()),
                            new TrainLoop.Reporter() {
                                @Override
                                public void info(String line) {
                                    info.add(line);
                                }

                                @Override
                                public void step(StepReport report, String logLine) {}
                            },
                            false)
                    .run(stop);
        }
        assertEquals(List.of(0L, 1L, 2L), stepper.steps);
        assertEquals(List.of(3L), stepper.checkpoints.stream().map(c -> c[0]).toList());
        assertEquals(3, r.endStep());
        assertTrue(info.get(0).startsWith("Stopped on a termination signal after step 3"), info.toString());
        assertTrue(Files.notExists(dir.resolve("metrics.jsonl")), "a loop that does not write metrics writes none");
    }

    @Test
    void shouldFitTheScheduleToTheTimeLimitAndAnnealAtTheDeadline(@TempDir Path dir) throws Exception {
        // 15 s; a provisional schedule far too long (10 × 100000 steps) that the fit shortens to end in time
        TrainSettings fitted = TrainSettings.load(
                "fmnist-pico",
                List.of(
                        "train.batch-size=2",
                        "train.max-minutes=0.25",
                        "train.fit-schedule-to-time=true",
                        "optim.epochs=10",
                        "optim.warmup-epochs=1",
                        "train.epoch-length=100000",
                        "checkpoint.every-steps=1000000"));
        RecordingStepper stepper = new RecordingStepper(TrainLoop.Resumed.START, -1);
        stepper.sleepMillis = 4;
        List<long[]> opened = new ArrayList<>();
        List<String> logged = new ArrayList<>();
        TrainLoop.Reporter reporter = new TrainLoop.Reporter() {
            @Override
            public void info(String line) {
                logged.add(line);
            }

            @Override
            public void step(StepReport report, String logLine) {}
        };
        long t0 = System.nanoTime();
        TrainLoop.Result r;
        try (ShutdownStop stop = new ShutdownStop(ShutdownStop.DEFAULT_GRACE)) {
            r = new TrainLoop(fitted, dir, stepper, blankBatches(opened), reporter, false).run(stop);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;

        String fit = logged.stream()
                .filter(l -> l.startsWith("Schedule fitted"))
                .reduce((first, second) -> second)
                .orElseThrow(() -> new AssertionError("no fit: " + logged));
        long fittedTotal = Long.parseLong(fit.replaceAll(".*, (\\d+) steps in all", "$1"));
        assertTrue(fittedTotal < 1_000_000 && fittedTotal % 10 == 0, "10 epochs of the fitted length: " + fit);
        // the schedule ends at the deadline: all of it run, or (on a loaded machine) cut in its last 10 %
        assertTrue(r.endStep() >= 0.9 * fittedTotal && r.endStep() <= fittedTotal, r.endStep() + " of " + fit);
        assertTrue(seconds > 0.85 * 15 && seconds < 16, "used the budget: " + seconds + " s");
        // the phase was reopened at the fit, the sampler continuing where it was
        assertEquals(2, opened.size());
        assertEquals(opened.get(1)[0] * 2, opened.get(1)[2]);
        // annealed: the last step's lr is near min-lr, far below the peak reached after warm-up
        double peak =
                stepper.values.stream().mapToDouble(Schedules.Values::lr).max().orElseThrow();
        double last = stepper.values.get(stepper.values.size() - 1).lr();
        assertTrue(last < 0.05 * peak, "lr at the end " + last + " vs peak " + peak);
        assertTrue(
                stepper.values.get(stepper.values.size() - 1).momentum() > 0.999, "teacher momentum reached its end");
    }

    @Test
    void shouldRefuseAFittedScheduleWithAFixedStepCount() {
        Exception e = org.junit.jupiter.api.Assertions.assertThrows(
                RuntimeException.class,
                () -> TrainSettings.load(
                        "fmnist-pico",
                        List.of("train.max-minutes=1", "train.fit-schedule-to-time=true", "train.max-steps=5")));
        assertTrue(e.getMessage().contains("dinoj.train.fit-schedule-to-time"), e.getMessage());
    }
}
