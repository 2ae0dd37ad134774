package dev.dinoj.actors.train;

import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.TimerScheduler;
import dev.dinoj.actors.curate.CurationView;
import dev.dinoj.actors.data.DataShard;
import dev.dinoj.trainer.config.TrainSettings;
import org.slf4j.Logger;

/**
 * What the phases of one run driver share: the actor's context and timers, the run and its settings, its store, its
 * progress and workers, the data the shards serve, and the parent told when the run has ended. Used on the actor
 * thread only.
 */
final class RunContext {

    final ActorContext<RunDriver.Command> ctx;
    final TimerScheduler<RunDriver.Command> timers;
    final RunSpec spec;
    final TrainSettings settings;
    final RunStore store;
    final RunProgress progress;
    final WorkerRoster workers = new WorkerRoster();
    final ActorRef<RunDriver.Ended> parent;
    /** The data shards' answer (null until they gave it). */
    DataShard.Info data;
    /** The dataset spec the data shards serve for this run ("" = the one of their node config). */
    String dataset = "";
    /** The curation of a run that curates first. */
    CurationView curation = CurationView.none();

    RunContext(
            ActorContext<RunDriver.Command> ctx,
            TimerScheduler<RunDriver.Command> timers,
            RunSpec spec,
            TrainSettings settings,
            RunStore store,
            RunProgress progress,
            ActorRef<RunDriver.Ended> parent) {
        this.ctx = ctx;
        this.timers = timers;
        this.spec = spec;
        this.settings = settings;
        this.store = store;
        this.progress = progress;
        this.parent = parent;
    }

    Logger log() {
        return ctx.getLog();
    }

    /** The status in phase {@code phase}, with the coordinator's {@code queue}. */
    RunStatus status(String phase, RunStatus.QueuedRun[] queue) {
        return progress.status(phase, workers.views(), curation, spec, queue);
    }
}
