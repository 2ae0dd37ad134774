package dev.dinoj.actors.train;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.receptionist.Receptionist;
import akka.actor.typed.receptionist.ServiceKey;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import akka.cluster.typed.Cluster;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.actors.ClusterMessage;
import dev.dinoj.actors.data.DataShard;
import dev.dinoj.actors.data.FetchedImages;
import dev.dinoj.trainer.collective.World;
import dev.dinoj.trainer.config.DatasetSpec;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.train.sharded.ShardedTrainer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The trainer worker of this JVM (one per JVM: DJL allows one gradient collector per process). It registers with the
 * receptionist, joins the Aeron worlds the coordinator's {@link RunDriver} forms, fetches its samples of each step
 * from the data shards and runs the sharded step, the checkpoint and the world changes on one training thread of its
 * own (the {@link WorkerEngine}); results come back as messages and are reported to the run driver.
 */
public final class TrainerWorker extends AbstractBehavior<TrainerWorker.Command> {

    public sealed interface Command {}

    /** Asks for a {@link RunDriver.WorkerHello} (the worker's Aeron endpoint). */
    public record Describe(ActorRef<RunDriver.Command> replyTo) implements Command, ClusterMessage {}

    /**
     * Join world {@code worldSpec} at {@code generation} as {@code rank}, train config {@code config} (resolved HOCON),
     * starting from {@code checkpoint} (empty: from scratch), with samples of {@code dataset} (a dataset spec the data
     * shards open; "" = their node's) of {@code datasetSize}. {@code secret} is the world's secret (drawn by the
     * coordinator for this generation, the same for every rank): every chunk of the world's collectives carries it and
     * the ranks drop chunks without it. It travels only in this message (over Artery, encrypted with
     * {@code tls-tcp}); {@link #toString()} does not show it.
     */
    public record FormWorld(
            int generation,
            String worldSpec,
            long secret,
            int rank,
            String config,
            String checkpoint,
            String dataset,
            int datasetSize,
            int sliceSize,
            ActorRef<RunDriver.Command> driver)
            implements Command, ClusterMessage {

        /** The fields that say what to do, not the secret or the configuration (a log line or dead letter shows it). */
        @Override
        public String toString() {
            return "FormWorld[generation=" + generation + ", worldSpec=" + worldSpec + ", rank=" + rank
                    + ", checkpoint=" + checkpoint + ", dataset=" + dataset + "]";
        }
    }

    public record RunStep(int generation, long step, StepSchedule schedule) implements Command, ClusterMessage {}

    /** Collective sharded checkpoint of {@code step} completed steps into {@code runDir}. */
    public record SaveCheckpoint(int generation, long step, String runDir) implements Command, ClusterMessage {}

    /** Leave world {@code generation} (the run is over or is being re-formed). */
    public record LeaveWorld(int generation) implements Command, ClusterMessage {}

    private record SamplesFetched(
            int generation, long step, StepSchedule schedule, FetchedImages images, long[][] plan, Throwable error)
            implements Command {}

    private record Report(int generation, RunDriver.Command message) implements Command {}

    public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "trainer-worker");

    public static Behavior<Command> create(Supplier<WorkerEngine> engine, Duration fetchTimeout) {
        return Behaviors.setup(ctx -> new TrainerWorker(ctx, engine.get(), fetchTimeout));
    }

    private final WorkerEngine engine;
    private final Duration fetchTimeout;
    private final ExecutorService trainingThread;
    private final String node;
    private int generation = -1;
    private int rank;
    private int worldSize;
    private String dataset = "";
    private int datasetSize;
    private int sliceSize;
    private TrainSettings settings;
    private ActorRef<RunDriver.Command> driver;

    private TrainerWorker(ActorContext<Command> ctx, WorkerEngine engine, Duration fetchTimeout) {
        super(ctx);
        this.engine = engine;
        this.fetchTimeout = fetchTimeout;
        this.trainingThread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "dinoj-trainer");
            t.setDaemon(true);
            return t;
        });
        this.node = Cluster.get(ctx.getSystem()).selfMember().address().toString();
        ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
        ctx.getLog().info("Trainer worker up, Aeron endpoint [{}]", engine.member());
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Describe.class, this::onDescribe)
                .onMessage(FormWorld.class, this::onFormWorld)
                .onMessage(RunStep.class, this::onRunStep)
                .onMessage(SamplesFetched.class, this::onSamplesFetched)
                .onMessage(SaveCheckpoint.class, this::onSaveCheckpoint)
                .onMessage(LeaveWorld.class, this::onLeaveWorld)
                .onMessage(Report.class, this::onReport)
                .onSignal(PostStop.class, s -> onPostStop())
                .build();
    }

    private Behavior<Command> onDescribe(Describe m) {
        m.replyTo()
                .tell(new RunDriver.WorkerHello(
                        getContext().getSelf(), engine.member().toString(), node));
        return this;
    }

    private Behavior<Command> onFormWorld(FormWorld m) {
        generation = m.generation();
        rank = m.rank();
        driver = m.driver();
        dataset = m.dataset() == null ? "" : m.dataset();
        datasetSize = m.datasetSize();
        sliceSize = m.sliceSize();
        World world = World.parse(m.worldSpec(), m.generation(), m.secret());
        worldSize = world.size();
        settings = TrainSettings.fromConfig(ConfigFactory.parseString(m.config()));
        TrainSettings s = settings;
        Path ckpt = m.checkpoint().isEmpty() ? null : Path.of(m.checkpoint());
        getContext()
                .getLog()
                .info(
                        "Joining world generation [{}] as rank [{}] of [{}]{}",
                        m.generation(),
                        m.rank(),
                        world.size(),
                        ckpt == null ? "" : ", from " + ckpt);
        int gen = m.generation();
        int r = m.rank();
        run(
                gen,
                () -> {
                    long step = engine.form(world, r, s, ckpt);
                    return new RunDriver.WorldJoined(gen, r, step);
                },
                e -> new RunDriver.WorldFailed(gen, r, FailureKind.of(e).name(), e.toString()));
        return this;
    }

    private Behavior<Command> onRunStep(RunStep m) {
        if (m.generation() != generation) {
            return this;
        }
        long[][] plan =
                WorkerEngine.plan(datasetSize, settings.seed(), settings.batchSize(), worldSize, rank, m.step());
        Map<String, List<Integer>> bySlice = new TreeMap<>();
        for (long idx : plan[1]) {
            bySlice.computeIfAbsent(DataShard.entityId((int) idx, sliceSize), k -> new ArrayList<>())
                    .add((int) idx);
        }
        long epoch = plan[0][0] / datasetSize;
        ClusterSharding sharding = ClusterSharding.get(getContext().getSystem());
        FetchedImages images = new FetchedImages(datasetSize, DatasetSpec.guard(settings.config()));
        String ds = dataset;
        CompletableFuture<Void> all = CompletableFuture.completedFuture(null);
        for (Map.Entry<String, List<Integer>> e : bySlice.entrySet()) {
            int[] idx = e.getValue().stream().mapToInt(Integer::intValue).toArray();
            var shard = sharding.entityRefFor(DataShard.KEY, e.getKey());
            CompletionStage<Void> slice = images.fetch(
                    idx,
                    (indices, from) -> shard.<DataShard.Samples>ask(
                            replyTo -> new DataShard.GetSamples(epoch, ds, indices, from, replyTo), fetchTimeout));
            all = all.thenCombine(slice, (v, w) -> null);
        }
        getContext()
                .pipeToSelf(
                        all, (v, err) -> new SamplesFetched(m.generation(), m.step(), m.schedule(), images, plan, err));
        return this;
    }

    private Behavior<Command> onSamplesFetched(SamplesFetched m) {
        if (m.generation() != generation) {
            return this;
        }
        int gen = m.generation();
        int r = rank;
        if (m.error() != null) {
            driver.tell(new RunDriver.StepFailed(
                    gen, m.step(), r, FailureKind.TRANSIENT.name(), "fetching samples: " + m.error()));
            return this;
        }
        run(
                gen,
                () -> {
                    long t0 = System.nanoTime();
                    ShardedTrainer.StepResult res = engine.step(m.step(), m.images(), m.schedule());
                    String[] names = res.losses().keySet().toArray(new String[0]);
                    double[] values = res.losses().values().stream()
                            .mapToDouble(Double::doubleValue)
                            .toArray();
                    String[] keys = new String[m.plan()[1].length];
                    for (int i = 0; i < keys.length; i++) {
                        keys[i] = m.images().key((int) m.plan()[1][i]);
                    }
                    return new RunDriver.StepDone(
                            gen,
                            m.step(),
                            r,
                            res.totalLoss(),
                            names,
                            values,
                            m.plan()[0],
                            m.plan()[1],
                            keys,
                            m.images().skipped(),
                            (System.nanoTime() - t0) / 1e9);
                },
                e -> new RunDriver.StepFailed(
                        gen, m.step(), r, FailureKind.of(e).name(), e.toString()));
        return this;
    }

    private Behavior<Command> onSaveCheckpoint(SaveCheckpoint m) {
        if (m.generation() != generation) {
            return this;
        }
        int gen = m.generation();
        int r = rank;
        run(
                gen,
                () -> new RunDriver.CheckpointSaved(
                        gen,
                        m.step(),
                        r,
                        engine.save(Path.of(m.runDir()), m.step()).toString()),
                e -> new RunDriver.CheckpointFailed(
                        gen, m.step(), r, FailureKind.of(e).name(), e.toString()));
        return this;
    }

    private Behavior<Command> onLeaveWorld(LeaveWorld m) {
        if (m.generation() == generation) {
            getContext().getLog().info("Leaving world generation [{}]", generation);
            generation = -1;
            trainingThread.execute(engine::leave);
        }
        return this;
    }

    private Behavior<Command> onReport(Report m) {
        if (m.generation() == generation && driver != null) {
            driver.tell(m.message());
        }
        return this;
    }

    /** Runs {@code work} on the training thread and reports its result (or failure) to the run driver. */
    private void run(int gen, Callable<RunDriver.Command> work, Function<Throwable, RunDriver.Command> failure) {
        CompletableFuture<RunDriver.Command> f = CompletableFuture.supplyAsync(
                () -> {
                    try {
                        return work.call();
                    } catch (Exception e) {
                        throw new CompletionException(e);
                    }
                },
                trainingThread);
        getContext().pipeToSelf(f, (ok, err) -> {
            if (err != null) {
                Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
                getContext().getLog().warn("Generation [{}] work failed: {}", gen, cause.toString(), cause);
                return new Report(gen, failure.apply(cause));
            }
            return new Report(gen, ok);
        });
    }

    private Behavior<Command> onPostStop() {
        trainingThread.execute(engine::close);
        trainingThread.shutdown();
        return this;
    }
}
