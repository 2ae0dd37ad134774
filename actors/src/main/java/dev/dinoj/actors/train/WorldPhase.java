package dev.dinoj.actors.train;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ReceiveBuilder;
import java.util.HashSet;
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
                                : abort("rank " + m.rank() + " could not join: " + m.error()))
                .onMessage(
                        RunDriver.StepFailed.class,
                        m -> m.generation() != generation
                                ? this
                                : abort("step " + m.step() + " failed on rank " + m.rank() + ": " + m.error()))
                .onMessage(
                        RunDriver.CheckpointFailed.class,
                        m -> m.generation() != generation
                                ? this
                                : abort("checkpoint " + m.step() + " failed on rank " + m.rank() + ": " + m.error()))
                .onMessageEquals(
                        RunDriver.Tick.PHASE_TIMEOUT,
                        () -> abort(phase() + " got no answer from ranks " + pending + " within "
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
