package dev.dinoj.trainer.train;

import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.masking.CollatedBatch;
import dev.dinoj.trainer.collective.ShutdownStop;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.schedule.Schedules;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The one training loop of dinoj, in dinov2's {@code do_train} order: resume from the newest checkpoint, then per
 * phase (the normal crops, then the high-resolution crops) per step: data → schedules → forward/backward, clip,
 * optimiser, EMA teacher (the {@link Stepper}) → metrics and log → checkpoint; until the last step, the time limit or
 * a termination signal. A single-process run and every rank of a sharded run drive it with their own stepper and
 * batch source; everything else (phases, cadence, stopping, metrics) is this class.
 */
public final class TrainLoop {

    /** Receives progress; the CLI draws a progress bar with it. */
    public interface Listener {
        void onStep(StepReport report);
    }

    /** The outcome of a run. */
    public record Result(long startStep, long endStep, Path lastCheckpoint, List<StepReport> steps, double seconds) {}

    /** What the step reports back: losses and gradient norms (global over ranks), and an extra for the log line. */
    public record StepOutcome(
            Map<String, Double> losses, double totalLoss, Map<String, Double> gradNorms, String logSuffix) {}

    /** Where a resumed run continues: the next step and the data sampler's position. */
    public record Resumed(long step, long samplerPosition) {

        /** A run from scratch. */
        public static final Resumed START = new Resumed(0, 0);
    }

    /** The training step and the state around it: one process, or one rank of a sharded run. */
    public interface Stepper {

        /** Restores the newest checkpoint of {@code outDir} (if any) and says where to continue. */
        Resumed resume(Path outDir);

        /** The newest checkpoint of {@code outDir}, null if none. */
        Path latestCheckpoint(Path outDir);

        /** One step on {@code batch} (its arrays in a manager of the step, closed before it returns). */
        StepOutcome step(long step, CollatedBatch batch, Schedules.Values schedule);

        /** Checkpoints the state after {@code steps} steps (collective for ranks); returns the checkpoint. */
        Path checkpoint(Path outDir, long steps, long samplerPosition);

        /**
         * Whether to stop after this step: every rank must decide the same (ranks agree on the flags of any rank).
         *
         * @return {@code [stop, signalled]}
         */
        boolean[] agreeToStop(boolean timeUp, boolean signalled);

        /** The smallest of the ranks' values (every rank gets the same); a single process returns its own. */
        default long agreeOnMinimum(long value) {
            return value;
        }

        /** Called once after the last step (ranks wait for each other). */
        default void finish() {}
    }

    /** The batches of one phase, in step order. */
    public interface BatchSource extends AutoCloseable {

        /** The batch of the next step. */
        CollatedBatch next() throws Exception;

        /** The data sampler's position after the batches taken so far (what a checkpoint records). */
        long position();

        @Override
        void close();
    }

    /**
     * Opens the batches of the steps {@code [firstStep, endStep)} of a phase, the data sampler at {@code position}
     * (where the previous phase or the resumed checkpoint left it).
     */
    @FunctionalInterface
    public interface Batches {
        BatchSource open(BatchRecipe recipe, long firstStep, long endStep, long position);
    }

    /** Where the loop's progress goes: the metrics file, the log, the listener (rank 0 only in a sharded run). */
    public interface Reporter {

        /** One line of information (stage headings, stops). */
        void info(String line);

        /** A completed step; {@code logLine} is set on the steps that are logged. */
        void step(StepReport report, String logLine);
    }

    /** Refuses a dataset smaller than one batch, naming it and the key. */
    public static void requireOneBatch(ImageDataset data, int batchSize) {
        if (data.size() < batchSize) {
            throw new IllegalArgumentException(data.describe() + " has " + data.size()
                    + " images, fewer than dinoj.train.batch-size = " + batchSize);
        }
    }

    private final TrainSettings settings;
    private final Path outDir;
    private final Stepper stepper;
    private final Batches batches;
    private final Reporter reporter;
    private final boolean writesMetrics;

    /**
     * @param writesMetrics whether this loop writes the run's {@code metrics.jsonl} (not the ranks other than 0)
     */
    public TrainLoop(
            TrainSettings settings,
            Path outDir,
            Stepper stepper,
            Batches batches,
            Reporter reporter,
            boolean writesMetrics) {
        this.settings = settings;
        this.outDir = outDir;
        this.stepper = stepper;
        this.batches = batches;
        this.reporter = reporter;
        this.writesMetrics = writesMetrics;
    }

    /** Runs from the newest checkpoint (or step 0) to the end, the time limit or a termination signal. */
    public Result run(ShutdownStop stop) throws Exception {
        long t0 = System.nanoTime();
        long deadline = settings.loop().deadlineNanos();
        List<StepReport> reports = new ArrayList<>();

        // ---- resume: restore the newest checkpoint, continue its data stream ----
        Resumed resumed = stepper.resume(outDir);
        long step = resumed.step();
        long position = resumed.samplerPosition();
        long startStep = step;
        Reached end;
        try (MetricsLog metrics = writesMetrics ? MetricsLog.open(outDir, step) : null) {
            end = phases(
                    stop, deadline, new Reached(step, stepper.latestCheckpoint(outDir)), position, metrics, reports);
        }
        stepper.finish();
        return new Result(startStep, end.step(), end.checkpoint(), reports, (System.nanoTime() - t0) / 1e9);
    }

    /** How far a run got: steps done and its newest checkpoint. */
    private record Reached(long step, Path checkpoint) {}

    private Reached phases(
            ShutdownStop stop, long deadline, Reached from, long position, MetricsLog metrics, List<StepReport> reports)
            throws Exception {
        long step = from.step();
        long firstStep = step;
        Path last = from.checkpoint();
        TrainSettings plan = settings; // refitted once by ScheduleFit
        ScheduleFit fit = ScheduleFit.of(settings, deadline);
        long totalSteps = plan.totalSteps();
        int batchSize = plan.batchSize();
        boolean stopped = false;
        while (step < totalSteps && !stopped) {
            // ---- a phase: normal crops, then the high-resolution crops (dinov2's last epochs) ----
            boolean highRes = plan.crops().highResAt(step);
            long phaseEnd = plan.crops().phaseEnd(step, totalSteps);
            BatchRecipe recipe = BatchRecipe.of(plan, highRes);
            if (highRes) {
                reporter.info("High-resolution phase from step " + step + ": global crops "
                        + recipe.crops().globalCropsSize() + " px, local crops "
                        + recipe.crops().localCropsSize() + " px");
            }
            try (BatchSource source = batches.open(recipe, step, phaseEnd, position)) {
                while (step < phaseEnd) {
                    // ---- data ----
                    long s0 = System.nanoTime();
                    CollatedBatch batch = source.next();
                    long s1 = System.nanoTime();
                    // ---- schedules, forward/backward, clip, optimiser, EMA teacher ----
                    Schedules.Values v = plan.schedules().at(step);
                    StepOutcome out = stepper.step(step, batch, v);
                    long s2 = System.nanoTime();
                    step++;
                    position = source.position();
                    // ---- metrics and log ----
                    StepReport r = new StepReport(
                            step,
                            totalSteps,
                            out.losses(),
                            out.totalLoss(),
                            v,
                            out.gradNorms(),
                            batchSize / ((s2 - s0) / 1e9),
                            (s1 - s0) / 1e9,
                            (s2 - s1) / 1e9,
                            batch.globalSize());
                    reports.add(r);
                    if (metrics != null) {
                        metrics.write(r);
                    }
                    boolean logged = step % settings.loop().logEvery() == 0 || step == totalSteps;
                    reporter.step(r, logged ? MetricsLog.format(r) + out.logSuffix() : null);
                    // ---- stop: the time limit or SIGTERM/Ctrl-C (every rank stops after the same step) ----
                    boolean[] decision = stepper.agreeToStop(System.nanoTime() > deadline, stop.requested());
                    stopped = decision[0];
                    // ---- checkpoint ----
                    if (plan.checkpoint().dueAfter(step, totalSteps) || stopped) {
                        if (metrics != null) {
                            metrics.flush();
                        }
                        last = stepper.checkpoint(outDir, step, position);
                    }
                    if (stopped) {
                        reporter.info(
                                decision[1]
                                        ? "Stopped on a termination signal after step " + step + "; checkpoint "
                                                + last.getFileName() + " written (--resume continues from it)"
                                        : "dinoj.train.max-minutes reached after step " + step);
                        break;
                    }
                    // ---- the schedule fitted to the time limit: a new plan, the phase reopened at this step ----
                    // (while calibrating, every rank proposes each step; the first proposal of any rank wins)
                    long fitted = fit == null || !fit.pending()
                            ? 0
                            : stepper.agreeOnMinimum(
                                    proposal(fit.afterStep(step - firstStep, step, System.nanoTime())));
                    if (fitted > 0 && fitted < Long.MAX_VALUE) {
                        fit.finish();
                        plan = ScheduleFit.refit(plan, fitted, step);
                        reporter.info(ScheduleFit.describe(plan, step));
                        totalSteps = plan.totalSteps();
                        break;
                    }
                }
            }
        }
        return new Reached(step, last);
    }

    /** A rank's proposal for the agreement: its fit, or {@link Long#MAX_VALUE} while it has none. */
    private static long proposal(long fitted) {
        return fitted > 0 ? fitted : Long.MAX_VALUE;
    }
}
