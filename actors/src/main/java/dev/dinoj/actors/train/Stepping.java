package dev.dinoj.actors.train;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ReceiveBuilder;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.train.ScheduleFit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * Drives the steps: sends each rank the step and its schedule values ({@link TrainerWorker.RunStep}), collects every
 * rank's {@link RunDriver.StepDone}, records the step's line in {@code audit.jsonl} and goes on (after
 * {@code step-pause}, if any). Before a step it checkpoints when one is due, and it ends the run after the last step,
 * on a stop request, or (after a checkpoint) when {@code train.max-minutes} have passed since the first step; with
 * {@code train.fit-schedule-to-time} the schedule is refitted to that limit once its calibration has ended.
 */
final class Stepping extends WorldPhase {

    private final List<RunDriver.StepDone> replies = new ArrayList<>();
    /** The schedule values of the step in flight. */
    private StepSchedule schedule;

    private Stepping(RunContext run) {
        super(run);
    }

    /** The next step of the current world, or first the checkpoint, the stop or the end that is due. */
    static Behavior<RunDriver.Command> next(RunContext run) {
        return new Stepping(run).nextStep();
    }

    @Override
    String phase() {
        return "stepping";
    }

    @Override
    ReceiveBuilder<RunDriver.Command> worldHandlers(ReceiveBuilder<RunDriver.Command> b) {
        return b.onMessage(RunDriver.StepDone.class, this::onStepDone)
                .onMessage(RunDriver.Recorded.class, this::onRecorded)
                .onMessageEquals(RunDriver.Tick.NEXT_STEP, this::nextStep);
    }

    private Behavior<RunDriver.Command> nextStep() {
        RunProgress p = run.progress;
        if (p.stopRequested()) {
            return finish("stopped", "stopped on request after step " + p.step());
        }
        p.startClock(run.spec.steps() == 0, System.nanoTime());
        if (p.timeUp(System.nanoTime())) {
            if (p.step() > p.committedStep()) {
                p.requestCheckpoint();
                return new Checkpointing(run);
            }
            return finish("stopped", "dinoj.train.max-minutes reached after step " + p.step());
        }
        if (p.checkpointDue()) {
            return new Checkpointing(run);
        }
        if (p.allStepsDone()) {
            return finish("finished", "finished " + p.totalSteps() + " steps");
        }
        replies.clear();
        schedule = p.schedule();
        run.workers.tellWorld(new TrainerWorker.RunStep(generation, p.step(), schedule));
        expectAll();
        return this;
    }

    private Behavior<RunDriver.Command> onStepDone(RunDriver.StepDone m) {
        if (m.step() != run.progress.step() || !answered(m.generation(), m.rank())) {
            return this;
        }
        replies.add(m);
        if (!pending.isEmpty()) {
            return this;
        }
        replies.sort(Comparator.comparingInt(RunDriver.StepDone::rank));
        long step = m.step();
        run.store.metrics(
                step, List.copyOf(replies), schedule, run.settings.loop().batchSize());
        run.ctx.pipeToSelf(
                run.store.audit(generation, step, replies.size(), List.copyOf(replies)),
                (done, e) -> new RunDriver.Recorded(generation, step, e));
        run.progress.stepDone(replies.get(0));
        for (RunDriver.StepDone r : replies) {
            run.progress.skipped(r.skipped());
        }
        TrainSettings fitted = run.progress.refitAfterStep(System.nanoTime());
        if (fitted != null) {
            run.log().info(ScheduleFit.describe(fitted, run.progress.step()));
        }
        return this;
    }

    /** The step's audit line is written: the step is complete. */
    private Behavior<RunDriver.Command> onRecorded(RunDriver.Recorded m) {
        RunProgress p = run.progress;
        if (m.generation() != generation || m.step() + 1 != p.step()) {
            return this;
        }
        if (m.error() != null) {
            run.log()
                    .warn(
                            "Cannot append to audit.jsonl: {}",
                            RunStore.cause(m.error()).getMessage());
        }
        if (p.step() % Math.max(1, run.settings.loop().logEvery()) == 0 || p.step() == p.totalSteps()) {
            RunDriver.StepDone r0 = replies.get(0);
            run.log()
                    .info(
                            "step {}/{}: loss {} ({} ranks, {} s)",
                            p.step(),
                            p.totalSteps(),
                            String.format(Locale.ROOT, "%.4f", r0.totalLoss()),
                            replies.size(),
                            String.format(Locale.ROOT, "%.2f", r0.seconds()));
        }
        if (!run.spec.stepPause().isZero()) {
            run.timers.startSingleTimer(RunDriver.Tick.NEXT_STEP, run.spec.stepPause());
            return this;
        }
        return nextStep();
    }
}
