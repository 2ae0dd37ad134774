package dev.dinoj.actors.train;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.ReceiveBuilder;

/**
 * The end of a run (finished, stopped or failed): the world leaves, {@code run-state.json} records the end, the
 * parent hears {@link RunDriver.Ended}; the driver answers as an ended run until the parent releases it
 * ({@link RunDriver.Release}), then stops.
 */
final class Finishing extends RunPhase {

    private static final RunStatus.QueuedRun[] NO_QUEUE = new RunStatus.QueuedRun[0];

    private final String end;

    /** Ends the run: {@code end} is finished, stopped or failed, {@code why} the message. */
    Finishing(RunContext run, String end, String why) {
        super(run);
        this.end = end;
        run.progress.message(why);
        run.timers.cancelAll();
        run.workers.tellWorld(new TrainerWorker.LeaveWorld(run.progress.generation()));
        run.ctx.pipeToSelf(
                run.store.save(run.progress.state(end)),
                (done, e) -> new RunDriver.Saved(run.progress.generation(), e));
    }

    @Override
    String phase() {
        return end;
    }

    @Override
    ReceiveBuilder<RunDriver.Command> handlers(ReceiveBuilder<RunDriver.Command> b) {
        return b.onMessage(RunDriver.Saved.class, this::onSaved)
                .onMessage(RunDriver.Release.class, m -> Behaviors.stopped());
    }

    @Override
    Behavior<RunDriver.Command> onStop(RunDriver.Stop m) {
        m.replyTo().tell(new Coordinator.Accepted(false, "no run in progress (" + end + ")"));
        return this;
    }

    @Override
    Behavior<RunDriver.Command> onCheckpointNow(RunDriver.CheckpointNow m) {
        m.replyTo().tell(new Coordinator.Accepted(false, "no run in progress (" + end + ")"));
        return this;
    }

    private Behavior<RunDriver.Command> onSaved(RunDriver.Saved m) {
        if (m.error() != null) {
            run.log()
                    .error(
                            "Cannot record the end of the run: {}",
                            RunStore.cause(m.error()).getMessage());
        }
        RunStatus status = run.status(end, NO_QUEUE);
        run.log().info("Run {}: {}", end, status.message());
        run.parent.tell(new RunDriver.Ended(status));
        return this;
    }
}
