package dev.dinoj.actors.train;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ReceiveBuilder;
import java.nio.file.Path;

/**
 * A checkpoint in two phases. Phase 1: every rank writes and acknowledges its shard ({@link TrainerWorker.SaveCheckpoint};
 * the collective save writes the manifest only after all shards). Phase 2, in the {@link RunStore}: the checkpoint's
 * checksums are verified and {@code run-state.json} names it; then the steps go on. A checkpoint that does not verify
 * right after every rank wrote it ends the run as failed (the storage under the run is broken: re-forming would loop);
 * a run state that cannot be written crashes the driver into the coordinator's supervision.
 */
final class Checkpointing extends WorldPhase {

    private final long step;

    Checkpointing(RunContext run) {
        super(run);
        this.step = run.progress.step();
        run.progress.checkpointStarted();
        run.workers.tellWorld(new TrainerWorker.SaveCheckpoint(
                generation, step, run.spec.runDir().toString()));
        expectAll();
    }

    @Override
    String phase() {
        return "checkpointing";
    }

    @Override
    ReceiveBuilder<RunDriver.Command> worldHandlers(ReceiveBuilder<RunDriver.Command> b) {
        return b.onMessage(RunDriver.CheckpointSaved.class, this::onSaved)
                .onMessage(RunDriver.Committed.class, this::onCommitted);
    }

    private Behavior<RunDriver.Command> onSaved(RunDriver.CheckpointSaved m) {
        if (m.step() != step || !answered(m.generation(), m.rank()) || !pending.isEmpty()) {
            return this;
        }
        Path dir = Path.of(m.dir());
        run.ctx.pipeToSelf(
                run.store.commit(dir, run.progress.stateCommitting(phase(), step, dir.toString())),
                (done, e) -> new RunDriver.Committed(generation, step, dir, e));
        return this;
    }

    private Behavior<RunDriver.Command> onCommitted(RunDriver.Committed m) {
        if (m.generation() != generation || m.step() != step) {
            return this;
        }
        if (m.error() != null) {
            Throwable cause = RunStore.cause(m.error());
            if (cause instanceof RunStore.Unverified) {
                return failed(FailureKind.CHECKPOINT, cause.getMessage());
            }
            throw new IllegalStateException("checkpoint " + m.dir() + " verified, but not recorded", cause);
        }
        run.progress.committed(step, m.dir().toString());
        run.log().info("Checkpoint committed: step {} in {}", step, m.dir());
        if (!run.progress.allStepsDone() && run.workers.canGrow(run.settings.batchSize(), run.spec.maxWorkers())) {
            return grow();
        }
        return Stepping.next(run);
    }

    /**
     * Workers joined while the world trained: it leaves and a bigger one forms from the checkpoint just committed (the
     * current step, so nothing is computed again and the sample stream goes on unchanged). Not a failure: restarts
     * stay as they are.
     */
    private Behavior<RunDriver.Command> grow() {
        String why = run.workers.listed().size() + " workers registered, "
                + run.workers.world().size() + " in the world: taking the new ones in at step " + step;
        run.log().info("Growing the world: {}", why);
        run.progress.message("growing: " + why);
        run.workers.tellWorld(new TrainerWorker.LeaveWorld(generation));
        run.timers.cancel(RunDriver.Tick.PHASE_TIMEOUT);
        return Waiting.reforming(run);
    }
}
