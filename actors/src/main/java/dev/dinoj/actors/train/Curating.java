package dev.dinoj.actors.train;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ReceiveBuilder;
import dev.dinoj.actors.curate.CurationDriver;

/**
 * The curation that comes first: a {@link CurationDriver} child curates the pool over the cluster's curation workers;
 * its progress is the run's {@code curation} status, and when it is done the run trains on the curated set.
 */
final class Curating extends RunPhase {

    private final ActorRef<CurationDriver.Command> curation;

    Curating(RunContext run) {
        super(run);
        this.curation = run.ctx.spawn(
                CurationDriver.create(
                        run.spec.curate(),
                        run.spec.runDir(),
                        run.ctx.messageAdapter(CurationDriver.Progress.class, RunDriver.CurationProgress::new)),
                "curation");
    }

    @Override
    String phase() {
        return "curating";
    }

    @Override
    ReceiveBuilder<RunDriver.Command> handlers(ReceiveBuilder<RunDriver.Command> b) {
        return b.onMessage(RunDriver.CurationProgress.class, this::onProgress);
    }

    @Override
    Behavior<RunDriver.Command> onStop(RunDriver.Stop m) {
        run.ctx.stop(curation);
        m.replyTo()
                .tell(new Coordinator.Accepted(
                        true, "the curation stops (finished partitions stay in the run " + "directory)"));
        return finish("stopped", "stopped on request while curating");
    }

    @Override
    Behavior<RunDriver.Command> onCheckpointNow(RunDriver.CheckpointNow m) {
        m.replyTo().tell(new Coordinator.Accepted(false, "no run in progress (curating)"));
        return this;
    }

    private Behavior<RunDriver.Command> onProgress(RunDriver.CurationProgress m) {
        CurationDriver.Progress p = m.progress();
        run.curation = p.view();
        if (!p.error().isEmpty()) {
            return finish("failed", "curation failed: " + p.error());
        }
        if (!p.finished()) {
            return this;
        }
        run.dataset = p.view().dataset();
        run.progress.message(p.view().message());
        run.log().info("Curation done; training on {}", run.dataset);
        return Waiting.start(run);
    }
}
