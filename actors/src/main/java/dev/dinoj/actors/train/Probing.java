package dev.dinoj.actors.train;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ReceiveBuilder;
import java.util.List;

/**
 * Asks every listed trainer worker for its Aeron endpoint ({@link TrainerWorker.Describe}) and forms a world of those
 * that answer within {@code probe-timeout} (all answered: at once); too few send the run back to {@link Waiting}.
 */
final class Probing extends RunPhase {

    Probing(RunContext run) {
        super(run);
        run.workers.probe();
        for (ActorRef<TrainerWorker.Command> w : run.workers.listed()) {
            w.tell(new TrainerWorker.Describe(run.ctx.getSelf()));
        }
        run.timers.startSingleTimer(RunDriver.Tick.PROBE_OVER, run.spec.probeTimeout());
    }

    @Override
    String phase() {
        return "probing";
    }

    @Override
    ReceiveBuilder<RunDriver.Command> handlers(ReceiveBuilder<RunDriver.Command> b) {
        return b.onMessage(RunDriver.WorkerHello.class, m -> run.workers.hello(m) ? form() : this)
                .onMessageEquals(RunDriver.Tick.PROBE_OVER, this::form);
    }

    private Behavior<RunDriver.Command> form() {
        run.timers.cancel(RunDriver.Tick.PROBE_OVER);
        List<RunDriver.WorkerHello> world = run.workers.choose(run.settings.batchSize(), run.spec.maxWorkers());
        int needed = run.progress.neededWorkers(run.spec.minWorkers());
        if (world.isEmpty() || world.size() < needed) {
            run.progress.message("waiting for workers: " + run.workers.answered() + " answered, " + needed + " needed");
            return Waiting.tooFew(run);
        }
        return new Forming(run, world);
    }
}
