package dev.dinoj.actors.train;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ReceiveBuilder;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * A phase with a world at work ({@link Forming}, {@link Stepping}, {@link Checkpointing}): it waits for an answer
 * from every rank within {@code step-timeout}, and any failure (a rank's error, a silent rank, a worker that left
 * the cluster) aborts the world, which is re-formed after {@code reform-delay}. A stop request waits for the work in
 * flight.
 */
abstract class WorldPhase extends RunPhase {

    /** The generation of this phase's world. */
    protected final int generation;
    /** Ranks whose answer the phase waits for. */
    protected final Set<Integer> pending = new HashSet<>();

    WorldPhase(RunContext run) {
        super(run);
        this.generation = run.progress.generation();
    }

    /** Adds the phase's own handlers to {@code b} (before the failures every world phase handles). */
    abstract ReceiveBuilder<RunDriver.Command> worldHandlers(ReceiveBuilder<RunDriver.Command> b);

    @Override
    final ReceiveBuilder<RunDriver.Command> handlers(ReceiveBuilder<RunDriver.Command> b) {
        return worldHandlers(b)
                .onMessage(
                        RunDriver.WorldFailed.class,
                        m -> m.generation() != generation
                                ? this
                                : failed(
                                        FailureKind.named(m.kind()),
                                        "rank " + m.rank() + " could not join: " + m.error()))
                .onMessage(
                        RunDriver.StepFailed.class,
                        m -> m.generation() != generation
                                ? this
                                : failed(
                                        FailureKind.named(m.kind()),
                                        "step " + m.step() + " failed on rank " + m.rank() + ": " + m.error()))
                .onMessage(
                        RunDriver.CheckpointFailed.class,
                        m -> m.generation() != generation
                                ? this
                                : failed(
                                        FailureKind.named(m.kind()),
                                        "checkpoint " + m.step() + " failed on rank " + m.rank() + ": " + m.error()))
                .onMessageEquals(
                        RunDriver.Tick.PHASE_TIMEOUT,
                        () -> failed(
                                FailureKind.TRANSIENT,
                                phase() + " got no answer from ranks " + pending + " within "
                                        + run.spec.stepTimeout().toSeconds() + " s"));
    }

    /** Waits for every rank of the world, at most {@code step-timeout}. */
    void expectAll() {
        pending.clear();
        for (int r = 0; r < run.workers.world().size(); r++) {
            pending.add(r);
        }
        run.timers.startSingleTimer(RunDriver.Tick.PHASE_TIMEOUT, run.spec.stepTimeout());
    }

    /** Whether {@code rank}'s answer of this generation completes the phase's wait (false: stale or a repeat). */
    boolean answered(int gen, int rank) {
        if (gen != generation || !pending.remove(rank)) {
            return false;
        }
        if (pending.isEmpty()) {
            run.timers.cancel(RunDriver.Tick.PHASE_TIMEOUT);
        }
        return true;
    }

    @Override
    Behavior<RunDriver.Command> onStop(RunDriver.Stop m) {
        run.progress.requestStop();
        m.replyTo().tell(stopping(m));
        return this;
    }

    @Override
    Behavior<RunDriver.Command> listed(RunDriver.WorkerHello lost) {
        return lost == null ? this : abort("worker " + lost.node() + " left the cluster");
    }

    /**
     * A failure of the world's work at the current step: a kind that no other world would fix ends the run as
     * {@code failed}; so does the same step failing {@code max-step-retries} times; anything else re-forms the world.
     */
    Behavior<RunDriver.Command> failed(FailureKind kind, String why) {
        long step = run.progress.step();
        if (!kind.retryable()) {
            return failRun(kind, why);
        }
        int times = run.progress.stepFailed(step);
        if (times >= run.spec.maxStepRetries()) {
            return failRun(
                    kind,
                    "step " + step + " failed " + times + " times (dinoj.actors.coordinator.max-step-retries = "
                            + run.spec.maxStepRetries() + "); the last time: " + why);
        }
        return abort(why);
    }

    /** Ends the run as failed: the cause goes to the log, {@code audit.jsonl}, the status and the run state. */
    private Behavior<RunDriver.Command> failRun(FailureKind kind, String why) {
        String message =
                "failed (" + kind.name().toLowerCase(Locale.ROOT) + ") at step " + run.progress.step() + ": " + why;
        run.log().error("Run {}", message);
        run.timers.cancel(RunDriver.Tick.PHASE_TIMEOUT);
        run.timers.cancel(RunDriver.Tick.NEXT_STEP);
        run.store.auditEnd(generation, run.progress.step(), kind.name().toLowerCase(Locale.ROOT), why);
        return finish("failed", message);
    }

    /** Gives the world up: its workers leave it, and a new world is formed after {@code reform-delay}. */
    Behavior<RunDriver.Command> abort(String why) {
        run.log().warn("Aborting generation [{}] at step {}: {}", generation, run.progress.step(), why);
        run.progress.failed(why);
        run.workers.tellWorld(new TrainerWorker.LeaveWorld(generation));
        run.timers.cancel(RunDriver.Tick.PHASE_TIMEOUT);
        run.timers.cancel(RunDriver.Tick.NEXT_STEP);
        return Waiting.reforming(run);
    }
}
