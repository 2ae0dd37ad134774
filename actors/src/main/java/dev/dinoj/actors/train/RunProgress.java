package dev.dinoj.actors.train;

import dev.dinoj.actors.curate.CurationView;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.train.ScheduleFit;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * Where a run stands: the next step, the committed checkpoint, the generation of its world, its failures and losses,
 * and what the operator asked for. Plain state and the rules over it (when a checkpoint is due, how many workers a
 * world needs); the run driver's phases change it on the actor thread.
 */
final class RunProgress {

    /** Total losses kept for the status. */
    static final int RECENT = 200;

    private long totalSteps;
    private final int checkpointEvery;
    /** The schedule's settings: the run's, or refitted to {@code train.max-minutes} ({@link ScheduleFit}). */
    private TrainSettings plan;

    private long deadlineNanos = Long.MAX_VALUE;
    private ScheduleFit fit;
    private long clockStep;
    private final int batchSize;
    private long step;
    private long committedStep = -1;
    private String committedDir = "";
    private int generation;
    private int restarts;
    private final Map<Long, Integer> stepFailures = new HashMap<>();
    private String message = "";
    private boolean formedBefore;
    private boolean checkpointRequested;
    private boolean stopRequested;
    private String[] lossNames = new String[0];
    private double[] lossValues = new double[0];
    private final ArrayDeque<Double> recent = new ArrayDeque<>();
    /** Dataset indices of the images skipped over the pixel guard in the run, by any rank, in any world. */
    private final SortedSet<Long> skipped = new TreeSet<>();

    /**
     * @param generationFloor the last generation the coordinator used: no world of this run reuses one
     */
    RunProgress(TrainSettings plan, long totalSteps, int checkpointEvery, int batchSize, int generationFloor) {
        this.plan = plan;
        this.totalSteps = totalSteps;
        this.checkpointEvery = checkpointEvery;
        this.batchSize = batchSize;
        this.generation = generationFloor;
    }

    /**
     * Takes up what the run directory recorded: the committed checkpoint, generation, restarts, the images skipped, an
     * end.
     */
    void restore(RunStore.Restored r) {
        for (long i : r.skippedImages()) {
            skipped.add(i);
        }
        committedStep = r.committedStep();
        committedDir = r.checkpoint();
        generation = Math.max(generation, r.generation());
        formedBefore = r.generation() > 0;
        restarts = r.restarts();
        message = r.message();
        step = Math.max(committedStep, 0);
    }

    /** Workers a world needs: {@code minWorkers} for a run's first world, then whoever is left (1). */
    int neededWorkers(int minWorkers) {
        return !formedBefore && committedStep < 0 ? minWorkers : 1;
    }

    /** A new world: the next generation, resuming at the committed step. */
    int newGeneration() {
        generation++;
        formedBefore = true;
        step = Math.max(committedStep, 0);
        return generation;
    }

    /** Whether step {@link #step()} is to be checkpointed before it runs (asked for, the end, or the cadence). */
    boolean checkpointDue() {
        return step > committedStep
                && (checkpointRequested || step == totalSteps || (step > 0 && step % checkpointEvery == 0));
    }

    boolean allStepsDone() {
        return step >= totalSteps;
    }

    /** The schedule values of step {@link #step()} (high resolution from {@code high-res start step} on). */
    StepSchedule schedule() {
        long hr = plan.crops().highResStartStep();
        return StepSchedule.of(plan.schedules().at(step), hr > 0 && step >= hr);
    }

    /**
     * Starts the clock of {@code train.max-minutes} (once, when the first step is about to run) and, with
     * {@code train.fit-schedule-to-time} and the schedule's own length ({@code fitting}), its schedule fit.
     */
    void startClock(boolean fitting, long nowNanos) {
        double minutes = plan.loop().maxMinutes();
        if (minutes <= 0 || deadlineNanos != Long.MAX_VALUE) {
            return;
        }
        deadlineNanos = nowNanos + (long) (minutes * 60e9);
        fit = fitting ? ScheduleFit.of(plan, deadlineNanos) : null;
        clockStep = step;
    }

    /** Whether {@code train.max-minutes} have passed since the clock started. */
    boolean timeUp(long nowNanos) {
        return nowNanos > deadlineNanos;
    }

    /**
     * After a completed step: the schedule refitted to the time limit when its calibration has just ended (then the
     * total steps follow it), else null.
     */
    TrainSettings refitAfterStep(long nowNanos) {
        if (fit == null || !fit.pending()) {
            return null;
        }
        long epochLength = fit.afterStep(step - clockStep, step, nowNanos);
        if (epochLength <= 0) {
            return null;
        }
        fit.finish();
        plan = ScheduleFit.refit(plan, epochLength, step);
        totalSteps = plan.totalSteps();
        return plan;
    }

    /** Step {@link #step()} completed with rank 0's result {@code r0}. */
    void stepDone(RunDriver.StepDone r0) {
        lossNames = r0.lossNames();
        lossValues = r0.lossValues();
        recent.addLast(r0.totalLoss());
        while (recent.size() > RECENT) {
            recent.removeFirst();
        }
        step++;
    }

    /**
     * Adds the images a rank's data shards skipped over the pixel guard ({@link RunDriver.StepDone#skipped}): the run
     * counts each image once, whichever rank or world met it (a step computed again after a rewind skips the same).
     */
    void skipped(long[] indices) {
        if (indices == null) {
            return;
        }
        for (long i : indices) {
            skipped.add(i);
        }
    }

    /** Distinct images of the dataset skipped over the pixel guard in the run. */
    int imagesSkipped() {
        return skipped.size();
    }

    /** The checkpoint of {@code committed} completed steps in {@code dir} is committed. */
    void committed(long committed, String dir) {
        committedStep = committed;
        committedDir = dir;
    }

    /** Counts a failure at {@code step} and returns how many there have been (this coordinator's, since it started). */
    int stepFailed(long step) {
        return stepFailures.merge(step, 1, Integer::sum);
    }

    /** A world failed: {@code why} is the message, and it counts as a restart. */
    void failed(String why) {
        message = why;
        restarts++;
    }

    void requestCheckpoint() {
        checkpointRequested = true;
    }

    /** A checkpoint is under way (a request is answered by it). */
    void checkpointStarted() {
        checkpointRequested = false;
    }

    void requestStop() {
        stopRequested = true;
    }

    boolean stopRequested() {
        return stopRequested;
    }

    void message(String m) {
        message = m;
    }

    long step() {
        return step;
    }

    long totalSteps() {
        return totalSteps;
    }

    long committedStep() {
        return committedStep;
    }

    String committedDir() {
        return committedDir;
    }

    int generation() {
        return generation;
    }

    /** What {@code run-state.json} records in phase {@code phase}. */
    RunStore.State state(String phase) {
        return new RunStore.State(
                phase,
                generation,
                restarts,
                committedStep,
                committedDir,
                Math.max(committedStep, 0) * batchSize,
                message,
                skippedImages());
    }

    private long[] skippedImages() {
        return skipped.stream().mapToLong(Long::longValue).toArray();
    }

    /** The state after committing the checkpoint of {@code committed} steps in {@code dir} (nothing changes here). */
    RunStore.State stateCommitting(String phase, long committed, String dir) {
        return new RunStore.State(
                phase,
                generation,
                restarts,
                committed,
                dir,
                Math.max(committed, 0) * batchSize,
                message,
                skippedImages());
    }

    /** The status in phase {@code phase}. */
    RunStatus status(
            String phase,
            RunStatus.WorkerView[] workers,
            CurationView curation,
            RunSpec spec,
            RunStatus.QueuedRun[] queue) {
        return new RunStatus(
                phase,
                step,
                totalSteps,
                generation,
                committedStep,
                committedDir,
                step * batchSize,
                lossNames,
                lossValues,
                recent.stream().mapToDouble(Double::doubleValue).toArray(),
                workers,
                message,
                restarts,
                skipped.size(),
                curation,
                spec.config(),
                spec.runDir() == null ? "" : spec.runDir().toAbsolutePath().toString(),
                queue);
    }
}
