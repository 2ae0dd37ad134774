package dev.dinoj.actors.train;

import ai.djl.ndarray.NDManager;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.loader.EpochSampler;
import dev.dinoj.trainer.checkpoint.ShardedCheckpoints;
import dev.dinoj.trainer.collective.CollectiveSettings;
import dev.dinoj.trainer.collective.Communicator;
import dev.dinoj.trainer.collective.EmbeddedDriver;
import dev.dinoj.trainer.collective.Member;
import dev.dinoj.trainer.collective.WireFormat;
import dev.dinoj.trainer.collective.World;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.train.BatchRecipe;
import dev.dinoj.trainer.train.SslMetaArch;
import dev.dinoj.trainer.train.StepBatch;
import dev.dinoj.trainer.train.StepRandom;
import dev.dinoj.trainer.train.TrainingRun;
import dev.dinoj.trainer.train.sharded.RankBatches;
import dev.dinoj.trainer.train.sharded.ShardedTrainer;
import java.nio.file.Path;

/**
 * The plain (actor-free) work of one trainer worker: this JVM's embedded Aeron media driver, the communicator of the
 * current world, the model and the sharded trainer. Every method runs on the worker's single training thread.
 */
public final class WorkerEngine implements AutoCloseable {

    private final Member member;
    private final CollectiveSettings collectiveSettings;
    private final EmbeddedDriver driver;
    private Communicator comm;
    private NDManager manager;
    private SslMetaArch model;
    private ShardedTrainer trainer;
    private TrainSettings settings;
    private volatile World world;

    public WorkerEngine(Member member, CollectiveSettings collectiveSettings) {
        this.member = member;
        this.collectiveSettings = collectiveSettings;
        this.driver = EmbeddedDriver.launch(member.driverDir(), collectiveSettings);
    }

    public Member member() {
        return member;
    }

    /**
     * Leaves the current world (if any), joins {@code world} as {@code rank} (its collectives carry and require the
     * world's secret), builds the model and, if {@code checkpoint} is given, loads it (resharded to this world's size).
     *
     * @return the step to continue at (0 without a checkpoint)
     */
    public long form(World world, int rank, TrainSettings s, Path checkpoint) {
        leave();
        if (!world.member(rank).equals(member)) {
            throw new IllegalArgumentException(
                    "rank " + rank + " of " + world + " is not this worker (" + member + ")");
        }
        comm = Communicator.join(world, rank, collectiveSettings);
        this.world = world;
        manager = NDManager.newBaseManager(s.device().resolve(world.localRank(rank))); // cuda: the local rank's GPU
        model = TrainingRun.createModel(s, manager); // pretraining or distillation, Gram anchoring when configured
        trainer = new ShardedTrainer(model, comm, WireFormat.F32);
        settings = s;
        return checkpoint == null
                ? 0
                : ShardedCheckpoints.load(checkpoint, trainer).step();
    }

    /** One sharded step on this rank's part of the global batch, whose images are in {@code images}. */
    public ShardedTrainer.StepResult step(long step, ImageDataset images, StepSchedule schedule) {
        BatchRecipe recipe = BatchRecipe.of(settings, schedule.highRes());
        RankBatches rb = new RankBatches(
                images, recipe.augmentation(), recipe.collator(), settings.batchSize(), comm.size(), settings.seed());
        try (NDManager m = manager.newSubManager()) {
            return trainer.step(
                    step,
                    StepBatch.of(m, rb.batch(step, comm.rank())),
                    schedule.values(),
                    StepRandom.forStep(settings.seed(), step));
        }
    }

    /** Collective: a sharded checkpoint of all ranks after {@code step} completed steps. */
    public Path save(Path runDir, long step) {
        return ShardedCheckpoints.save(
                runDir,
                trainer,
                new ShardedCheckpoints.State(
                        step, step * settings.batchSize(), 0, settings.seed(), settings.render(), comm.size()),
                settings.checkpoint().keepLast());
    }

    /** The world this worker is in (as the coordinator formed it, with its secret), or null. */
    public World world() {
        return world;
    }

    /** Closes the model and the communicator of the current world (the media driver stays). */
    public void leave() {
        world = null;
        if (model != null) {
            model.close();
            model = null;
        }
        if (manager != null) {
            manager.close();
            manager = null;
        }
        if (comm != null) {
            comm.close();
            comm = null;
        }
        trainer = null;
    }

    @Override
    public void close() {
        leave();
        driver.close();
    }

    /**
     * Which samples rank {@code rank} of {@code worldSize} trains on at {@code step}: the global batch {@code B} of a
     * step is stream positions {@code [step·B, (step+1)·B)} of the epoch sampler, and the rank takes
     * {@code B/worldSize} of them ({@link RankBatches}' split).
     *
     * @return {@code [positions, indices]} as two arrays of the same length (positions as longs in the first)
     */
    public static long[][] plan(int datasetSize, long seed, int globalBatch, int worldSize, int rank, long step) {
        int b = globalBatch / worldSize;
        EpochSampler sampler = new EpochSampler(datasetSize, seed);
        long first = step * globalBatch + (long) rank * b;
        sampler.seek(first);
        long[] positions = new long[b];
        long[] indices = new long[b];
        for (int i = 0; i < b; i++) {
            positions[i] = sampler.position();
            indices[i] = sampler.next();
        }
        return new long[][] {positions, indices};
    }
}
