package dev.dinoj.actors.train;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.ReceiveBuilder;

/**
 * A phase of a run driver: a behaviour of its own with the phase's handlers, plus what every phase answers (the
 * status, stop, checkpoint and queue requests of the coordinator, the receptionist's listing). A phase's handlers are
 * matched first and may override the common ones.
 */
abstract class RunPhase extends AbstractBehavior<RunDriver.Command> {

    protected final RunContext run;

    RunPhase(RunContext run) {
        super(run.ctx);
        this.run = run;
    }

    /** The phase as the status names it. */
    abstract String phase();

    /** Adds the phase's own handlers to {@code b}. */
    abstract ReceiveBuilder<RunDriver.Command> handlers(ReceiveBuilder<RunDriver.Command> b);

    @Override
    public final Receive<RunDriver.Command> createReceive() {
        return handlers(newReceiveBuilder())
                .onMessage(RunDriver.GetStatus.class, m -> {
                    m.replyTo().tell(run.status(phase(), m.queue()));
                    return this;
                })
                .onMessage(RunDriver.Stop.class, this::onStop)
                .onMessage(RunDriver.CheckpointNow.class, this::onCheckpointNow)
                .onMessage(RunDriver.Queued.class, this::onQueued)
                .onMessage(RunDriver.Listing.class, this::onListing)
                .build();
    }

    /** Stops now: nothing is in flight (phases with work in flight stop after it). */
    Behavior<RunDriver.Command> onStop(RunDriver.Stop m) {
        m.replyTo().tell(stopping(m));
        return finish("stopped", "stopped on request at step " + run.progress.step());
    }

    Behavior<RunDriver.Command> onCheckpointNow(RunDriver.CheckpointNow m) {
        run.progress.requestCheckpoint();
        m.replyTo().tell(new Coordinator.Accepted(true, "a checkpoint follows the step in flight"));
        return this;
    }

    /** What the phase does when the listing lost {@code lost} of the world (null: none). */
    Behavior<RunDriver.Command> listed(RunDriver.WorkerHello lost) {
        return this;
    }

    /** Ends the run: {@code end} is finished, stopped or failed. */
    Behavior<RunDriver.Command> finish(String end, String why) {
        return new Finishing(run, end, why);
    }

    /** The answer to a stop request that is carried out. */
    static Coordinator.Accepted stopping(RunDriver.Stop m) {
        return new Coordinator.Accepted(
                true,
                "the run stops after the step in flight"
                        + (m.queued() == 0
                                ? ""
                                : "; then the next of " + m.queued()
                                        + " queued runs starts (POST /training/cancel takes one out)"));
    }

    private Behavior<RunDriver.Command> onQueued(RunDriver.Queued m) {
        RunSpec s = run.spec;
        m.replyTo()
                .tell(new Coordinator.Accepted(
                        true,
                        "run " + m.config() + " queued at position " + m.position()
                                + ": it starts when run " + s.config() + " in " + s.runDir() + " (" + phase()
                                + ", step "
                                + run.progress.step() + ")"
                                + (m.position() > 1 ? " and the " + (m.position() - 1) + " before it have" : " has")
                                + " ended; run dir " + m.dir()));
        return this;
    }

    private Behavior<RunDriver.Command> onListing(RunDriver.Listing m) {
        RunDriver.WorkerHello lost = run.workers.list(m.workers());
        run.log().info("Workers registered: {}", m.workers().size());
        return listed(lost);
    }
}
