package dev.dinoj.actors.train;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ReceiveBuilder;
import dev.dinoj.trainer.collective.World;
import java.util.List;

/**
 * Forms the world of the next generation: records the generation in {@code run-state.json} (so that no later world
 * reuses it), then tells every rank to join ({@link TrainerWorker.FormWorld}) from the last committed checkpoint, and
 * waits until every rank has joined at the committed step. The generation's secret for the collectives is drawn here
 * ({@link World#newSecret()}), sent to the ranks and nowhere else: not to {@code run-state.json}, not to a log.
 */
final class Forming extends WorldPhase {

    private final long secret = World.newSecret();

    Forming(RunContext run, List<RunDriver.WorkerHello> world) {
        super(withWorld(run, world));
        int gen = generation;
        run.ctx.pipeToSelf(run.store.save(run.progress.state(phase())), (done, e) -> new RunDriver.Saved(gen, e));
        run.store.rewindMetrics(run.progress.step()); // the steps after it are computed again
        run.log()
                .info(
                        "Forming world generation [{}] of {} workers, resuming at step {} ({}): {}",
                        generation,
                        world.size(),
                        run.progress.step(),
                        run.progress.committedDir().isEmpty() ? "from scratch" : run.progress.committedDir(),
                        run.workers.worldSpec());
    }

    /** The world of the new generation is {@code world}. */
    private static RunContext withWorld(RunContext run, List<RunDriver.WorkerHello> world) {
        run.workers.form(world);
        run.progress.newGeneration();
        return run;
    }

    @Override
    String phase() {
        return "forming";
    }

    @Override
    ReceiveBuilder<RunDriver.Command> worldHandlers(ReceiveBuilder<RunDriver.Command> b) {
        return b.onMessage(RunDriver.Saved.class, this::onSaved).onMessage(RunDriver.WorldJoined.class, this::onJoined);
    }

    private Behavior<RunDriver.Command> onSaved(RunDriver.Saved m) {
        if (m.generation() != generation) {
            return this;
        }
        if (m.error() != null) {
            throw new IllegalStateException("cannot record generation " + generation, RunStore.cause(m.error()));
        }
        String config = run.settings.render();
        List<RunDriver.WorkerHello> world = run.workers.world();
        for (int r = 0; r < world.size(); r++) {
            world.get(r)
                    .worker()
                    .tell(new TrainerWorker.FormWorld(
                            generation,
                            run.workers.worldSpec(),
                            secret,
                            r,
                            config,
                            run.progress.committedDir(),
                            run.dataset,
                            run.data.size(),
                            run.data.sliceSize(),
                            run.ctx.getSelf()));
        }
        expectAll();
        return this;
    }

    private Behavior<RunDriver.Command> onJoined(RunDriver.WorldJoined m) {
        if (m.generation() == generation && m.step() != run.progress.step()) {
            return abort("rank " + m.rank() + " loaded step " + m.step() + ", expected " + run.progress.step());
        }
        return answered(m.generation(), m.rank()) && pending.isEmpty() ? Stepping.next(run) : this;
    }
}
