package dev.dinoj.actors.train;

import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.ReceiveBuilder;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import dev.dinoj.actors.data.DataShard;
import java.time.Duration;

/**
 * Waiting for the data shards' answer and for enough trainer workers ({@code min-workers} for a run's first world,
 * then any), then probing them. After a failure the phase is {@code reforming}: it waits {@code reform-delay} first
 * (the cluster downs a dead node meanwhile), then probes whoever is listed.
 */
final class Waiting extends RunPhase {

    private static final Duration ASK_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration ASK_AGAIN = Duration.ofSeconds(2);

    private final boolean reforming;

    private Waiting(RunContext run, boolean reforming) {
        super(run);
        this.reforming = reforming;
    }

    /** Asks the data shards (once per run) and probes as soon as there are enough workers. */
    static Behavior<RunDriver.Command> start(RunContext run) {
        if (run.data == null) {
            run.ctx.getSelf().tell(RunDriver.Tick.ASK_DATA);
        }
        return new Waiting(run, false).probeIfReady();
    }

    /** After a failure: probes again after {@code reform-delay}. */
    static Behavior<RunDriver.Command> reforming(RunContext run) {
        run.timers.startSingleTimer(RunDriver.Tick.REFORM, run.spec.reformDelay());
        return new Waiting(run, true);
    }

    /** Too few workers answered the probe: waits for more, and probes again after {@code reform-delay}. */
    static Behavior<RunDriver.Command> tooFew(RunContext run) {
        run.timers.startSingleTimer(RunDriver.Tick.REFORM, run.spec.reformDelay());
        return new Waiting(run, false);
    }

    @Override
    String phase() {
        return reforming ? "reforming" : "waiting";
    }

    @Override
    ReceiveBuilder<RunDriver.Command> handlers(ReceiveBuilder<RunDriver.Command> b) {
        return b.onMessageEquals(RunDriver.Tick.ASK_DATA, this::onAskData)
                .onMessage(RunDriver.DataInfo.class, this::onDataInfo)
                .onMessageEquals(RunDriver.Tick.REFORM, this::onReform);
    }

    @Override
    Behavior<RunDriver.Command> listed(RunDriver.WorkerHello lost) {
        return reforming ? this : probeIfReady();
    }

    private Behavior<RunDriver.Command> onAskData() {
        String ds = run.dataset;
        run.ctx.ask(
                DataShard.Info.class,
                ClusterSharding.get(run.ctx.getSystem()).entityRefFor(DataShard.KEY, "0"),
                ASK_TIMEOUT,
                r -> new DataShard.GetInfo(ds, r),
                RunDriver.DataInfo::new);
        return this;
    }

    private Behavior<RunDriver.Command> onDataInfo(RunDriver.DataInfo m) {
        if (run.data != null) {
            return this; // answered twice
        }
        if (m.error() != null) {
            run.log()
                    .info(
                            "Data shards not reachable yet ({}); asking again",
                            m.error().toString());
            run.timers.startSingleTimer(RunDriver.Tick.ASK_DATA, ASK_AGAIN);
            return this;
        }
        run.data = m.info();
        run.log()
                .info(
                        "Data shards serve [{}]: {} images, {} per shard",
                        run.data.dataset(),
                        run.data.size(),
                        run.data.sliceSize());
        return reforming ? this : probeIfReady();
    }

    private Behavior<RunDriver.Command> onReform() {
        return run.data != null && !run.workers.listed().isEmpty()
                ? new Probing(run)
                : reforming ? new Waiting(run, false) : this;
    }

    private Behavior<RunDriver.Command> probeIfReady() {
        int listed = run.workers.listed().size();
        return run.data != null && listed > 0 && listed >= run.progress.neededWorkers(run.spec.minWorkers())
                ? new Probing(run)
                : this;
    }
}
