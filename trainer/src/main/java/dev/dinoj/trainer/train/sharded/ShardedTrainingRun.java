package dev.dinoj.trainer.train.sharded;

import ai.djl.ndarray.NDManager;
import dev.dinoj.pipeline.augment.MultiCropAugmentation;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.masking.CollatedBatch;
import dev.dinoj.pipeline.masking.Collator;
import dev.dinoj.pipeline.masking.MaskingGenerator;
import dev.dinoj.trainer.checkpoint.CheckpointException;
import dev.dinoj.trainer.checkpoint.Checkpoints;
import dev.dinoj.trainer.checkpoint.ShardedCheckpoints;
import dev.dinoj.trainer.collective.Communicator;
import dev.dinoj.trainer.collective.LocalRanks;
import dev.dinoj.trainer.collective.RankMain;
import dev.dinoj.trainer.collective.ReduceOp;
import dev.dinoj.trainer.collective.World;
import dev.dinoj.trainer.config.ConfigError;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.schedule.Schedules;
import dev.dinoj.trainer.train.DistillTeacher;
import dev.dinoj.trainer.train.DivergenceException;
import dev.dinoj.trainer.collective.ShutdownStop;
import dev.dinoj.trainer.train.SslMetaArch;
import dev.dinoj.trainer.train.StepRandom;
import dev.dinoj.trainer.train.TrainingRun;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code dinoj train --ranks N} (and {@code dinoj distill --ranks N}): DINOv2 pretraining — with Gram anchoring when
 * configured — or distillation, with the sharded step ({@link ShardedTrainer}) in N rank JVMs on
 * this host ({@link LocalRanks}; IPC through one media driver in the launching JVM unless
 * {@code dinoj.collectives.transport = udp}). Rank r trains on its part of every global batch ({@link RankBatches});
 * all ranks write their shard of every checkpoint ({@link ShardedCheckpoints}, loadable with any number of ranks, and
 * read by {@code eval}/{@code export} like a single-process checkpoint); rank 0 writes {@code config.conf} and
 * {@code metrics.jsonl} (the format of {@link TrainingRun}) and reports progress to the launcher. Rank logs:
 * {@code OUT/ranks/rank-R.log}.
 */
public final class ShardedTrainingRun {

    private static final Logger log = LoggerFactory.getLogger(ShardedTrainingRun.class);
    private static final String PROGRESS = "PROGRESS ";
    private static final String RESULT = "RESULT ";
    private static final String LOG = "LOG ";

    private ShardedTrainingRun() {
    }

    /**
     * Starts the ranks and waits for them.
     *
     * @param config  preset or HOCON file; {@code sets} its overrides (every rank loads the same)
     * @param resume  continue from the newest (sharded) checkpoint in {@code outDir}, with any number of ranks
     * @param listener told about every step of rank 0 (step, total steps, total loss, images/s)
     */
    public static TrainingRun.Result launch(String config, List<String> sets, Path outDir, boolean resume, int ranks,
                                            TrainingRun.Listener listener) throws IOException, InterruptedException {
        return launch(config == null ? List.of() : List.of(config), sets, outDir, resume, ranks, listener);
    }

    /**
     * {@link #launch(String, List, Path, boolean, int, TrainingRun.Listener)} with layered configurations (each
     * preset or HOCON file overrides the ones before it, e.g. {@code dinoj distill}'s student preset, then
     * {@code --config}).
     */
    public static TrainingRun.Result launch(List<String> configs, List<String> sets, Path outDir, boolean resume,
                                            int ranks, TrainingRun.Listener listener)
            throws IOException, InterruptedException {
        TrainSettings s = TrainSettings.load(configs, sets);
        if (ranks < 1) {
            throw new IllegalArgumentException("--ranks must be >= 1: " + ranks);
        }
        if (s.batchSize() % ranks != 0) {
            throw new ConfigError("dinoj.train.batch-size = " + s.batchSize() + " is not a multiple of --ranks " + ranks
                    + " (every rank trains on batch-size / ranks images of each step)");
        }
        if (resume && s.distill().teacher() != null) {      // before any rank starts, as a one-process resume does
            TrainingRun.checkTeacherRecord(s.distill().teacher(), DistillTeacher.sourceSha256(s.distill().teacher()), outDir);
        }
        if (resume) {
            Optional<Path> latest = Checkpoints.latest(outDir);
            if (latest.isPresent() && !Checkpoints.isSharded(latest.get())) {
                throw new CheckpointException(latest.get() + ": written by a single-process run; continue it without "
                        + "--ranks (dinoj train --resume)");
            }
        }
        long t0 = System.nanoTime();
        Files.createDirectories(outDir);
        int threads = s.collectives().threadsPerRank(ranks);
        List<TrainingRun.StepReport> reports = new ArrayList<>();
        long[] result = {-1, -1};
        String[] last = {null};
        try (LocalRanks world = LocalRanks.form(ranks, s.collectives().transport(), s.collectives().basePort(), s.collectives().aeron())) {
            List<String> jvm = List.of("-Dai.djl.pytorch.num_threads=" + threads, "-Dai.djl.pytorch.num_interop_threads=1");
            world.start(System.getProperty("dinoj.rank.heap", "2g"), jvm, ShardedTrainingRun.class.getName(), r -> {
                List<String> a = new ArrayList<>(List.of("worker", Integer.toString(r), world.world().spec(),
                        Boolean.toString(world.ranksLaunchDrivers()), outDir.toAbsolutePath().toString(),
                        Boolean.toString(resume), Integer.toString(configs.size())));
                a.addAll(configs);
                a.addAll(sets);
                return a;
            }, outDir.resolve("ranks"));
            log.info("Started {} rank JVMs ({}, {} PyTorch thread(s) each, overlap {}); rank logs in {}", ranks,
                    s.collectives().transport(), threads, s.collectives().overlap() ? "on" : "off", outDir.resolve("ranks"));
            world.await(Long.MAX_VALUE / 4, line -> {
                if (line.startsWith(PROGRESS)) {
                    String[] f = line.substring(PROGRESS.length()).split(" ");
                    TrainingRun.StepReport r = new TrainingRun.StepReport(Long.parseLong(f[0]), Long.parseLong(f[1]),
                            Map.of(), Double.parseDouble(f[2]), null, Map.of(), Double.parseDouble(f[3]),
                            Double.parseDouble(f[4]), Double.parseDouble(f[5]), Integer.parseInt(f[6]));
                    reports.add(r);
                    listener.onStep(r);
                } else if (line.startsWith(LOG)) {
                    log.info(line.substring(LOG.length()));
                } else if (line.startsWith(RESULT)) {
                    String[] f = line.substring(RESULT.length()).split(" ", 3);
                    result[0] = Long.parseLong(f[0]);
                    result[1] = Long.parseLong(f[1]);
                    last[0] = f[2].equals("-") ? null : f[2];
                }
            });
        }
        if (result[0] < 0) {
            throw new IOException("rank 0 exited without a result; see " + outDir.resolve("ranks/rank-0.log"));
        }
        return new TrainingRun.Result(result[0], result[1], last[0] == null ? null : Path.of(last[0]), reports,
                (System.nanoTime() - t0) / 1e9);
    }

    // =================================================================================================================
    // A rank (child JVM)
    // =================================================================================================================

    /** {@code worker RANK WORLD OWN_DRIVER OUT RESUME K [CONFIG…(K)] [SET…]}: one rank of {@link #launch}. */
    public static void main(String[] args) {
        if (args.length < 7 || !"worker".equals(args[0])) {
            System.err.println("usage: ShardedTrainingRun worker RANK WORLD OWN_DRIVER OUT RESUME K [CONFIG...(K)] [SET...]");
            System.exit(64);
        }
        int rank = Integer.parseInt(args[1]);
        LocalRanks.exitWithLauncher();
        World world = World.parse(args[2], 0);
        Path out = Path.of(args[4]);
        boolean resume = Boolean.parseBoolean(args[5]);
        int k = Integer.parseInt(args[6]);
        TrainSettings s = TrainSettings.load(Arrays.asList(args).subList(7, 7 + k),
                Arrays.asList(args).subList(7 + k, args.length));
        RankMain.runAndHalt(world, rank, s.collectives().aeron(), Boolean.parseBoolean(args[3]), comm -> train(s, comm, out, resume),
                t -> t instanceof DivergenceException ? 3 : 1);
    }

    private static void train(TrainSettings s, Communicator comm, Path out, boolean resume) throws Exception {
        int rank = comm.rank();
        int n = comm.size();
        boolean lead = rank == 0;
        if (lead) {
            Files.createDirectories(out);
            Files.writeString(out.resolve("config.conf"), s.render());
        }
        ImageDataset data = s.openDataset();
        int batchSize = s.batchSize();
        if (data.size() < batchSize) {
            throw new IllegalArgumentException(data.describe() + " has " + data.size()
                    + " images, fewer than dinoj.train.batch-size = " + batchSize);
        }
        long totalSteps = s.totalSteps();
        long deadline = s.loop().maxMinutes() > 0 ? System.nanoTime() + (long) (s.loop().maxMinutes() * 60e9) : Long.MAX_VALUE;
        ExecutorService loader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "dinoj-rank-loader");
            t.setDaemon(true);
            return t;
        });
        try (ShutdownStop stop = new ShutdownStop(ShutdownStop.DEFAULT_GRACE);
             NDManager manager = NDManager.newBaseManager();
             SslMetaArch model = lead ? TrainingRun.createModel(s, manager, out, resume)    // + the teacher record
                     : TrainingRun.createModel(s, manager);
             ShardedTrainer trainer = new ShardedTrainer(model, comm, s.collectives().gradientWire(), s.collectives().overlap())) {
            model.setCropPacking(s.loop().cropPacking());
            long step = 0;
            if (resume) {
                Optional<Path> latest = ShardedCheckpoints.latest(out);
                if (latest.isPresent()) {
                    ShardedCheckpoints.State st = ShardedCheckpoints.load(latest.get(), trainer);
                    step = st.step();
                    if (lead) {
                        if (!st.config().equals(s.render())) {
                            say("Resuming " + latest.get() + " with a configuration that differs from the checkpoint's; "
                                    + "the run will not match an uninterrupted one");
                        }
                        say("Resuming from " + latest.get() + " at step " + step + " (written by " + st.worldSize()
                                + " rank(s), now " + n + ")");
                    }
                } else if (lead) {
                    say("--resume: no checkpoint in " + out.resolve(ShardedCheckpoints.DIR) + ", starting from scratch");
                }
            }
            long startStep = step;
            Path last = ShardedCheckpoints.latest(out).orElse(null);
            try (BufferedWriter metrics = lead ? TrainingRun.openMetrics(out, step) : null) {
                boolean timeUp = false;
                while (step < totalSteps && !timeUp) {
                    long hr = s.crops().highResStartStep();
                    boolean highRes = hr > 0 && step >= hr;
                    long phaseEnd = highRes || hr <= 0 ? totalSteps : Math.min(totalSteps, hr);
                    var crops = s.crops().multiCrop(highRes);
                    Collator collator = new Collator(s.masks().ratioMinMax()[0], s.masks().ratioMinMax()[1],
                            s.masks().sampleProbability(),
                            MaskingGenerator.forGlobalCrops(crops.globalCropsSize(), s.ssl().backbone().patchSize()));
                    RankBatches batches = new RankBatches(data, new MultiCropAugmentation(crops), collator, batchSize, n,
                            s.seed());
                    if (highRes && lead) {
                        say("High-resolution phase from step " + step + ": global crops " + crops.globalCropsSize()
                                + " px, local crops " + crops.localCropsSize() + " px");
                    }
                    final long first = step;
                    Future<CollatedBatch> next = loader.submit(() -> batches.batch(first, rank));
                    while (step < phaseEnd) {
                        long s0 = System.nanoTime();
                        CollatedBatch cb = next.get();
                        long s1 = System.nanoTime();
                        final long following = step + 1;
                        next = following < phaseEnd ? loader.submit(() -> batches.batch(following, rank)) : null;
                        Schedules.Values v = s.schedules().at(step);
                        ShardedTrainer.StepResult res;
                        try (NDManager stepManager = manager.newSubManager()) {
                            res = trainer.step(step, RankBatches.toDevice(stepManager, cb), v,
                                    StepRandom.forStep(s.seed(), step));
                        }
                        long s2 = System.nanoTime();
                        step++;
                        // every rank stops after the same step: the time limit, or SIGTERM/Ctrl-C on any rank
                        double[] up = {System.nanoTime() > deadline ? 1 : 0, stop.requested() ? 1 : 0};
                        comm.allReduce(up, ReduceOp.MAX);
                        boolean signalled = up[1] > 0;
                        timeUp = up[0] > 0 || signalled;
                        if (lead) {
                            TrainingRun.StepReport r = new TrainingRun.StepReport(step, totalSteps, res.losses(),
                                    res.totalLoss(), v, res.gradNorms(), batchSize / ((s2 - s0) / 1e9), (s1 - s0) / 1e9,
                                    (s2 - s1) / 1e9, cb.globalSize());
                            TrainingRun.writeMetrics(metrics, r);
                            System.out.println(String.format(Locale.ROOT, "%s%d %d %.6f %.4f %.6f %.6f %d", PROGRESS, step,
                                    totalSteps, r.totalLoss(), r.imagesPerSecond(), r.dataWaitSeconds(),
                                    r.computeSeconds(), r.globalCropSize()));
                            if (step % s.loop().logEvery() == 0 || step == totalSteps) {
                                say(TrainingRun.format(r) + String.format(Locale.ROOT,
                                        "  (%d ranks, blocked in communication %.3f s of %.3f s)", n,
                                        res.communicationSeconds(), res.stepSeconds()));
                            }
                        }
                        if (step % s.checkpoint().everySteps() == 0 || step == totalSteps || timeUp) {
                            if (metrics != null) {
                                metrics.flush();
                            }
                            last = ShardedCheckpoints.save(out, trainer, new ShardedCheckpoints.State(step,
                                    batches.positionAfter(step - 1), 0, s.seed(), s.render(), n), s.checkpoint().keepLast());
                        }
                        if (timeUp) {
                            if (lead) {
                                say(signalled ? "Stopped on a termination signal after step " + step + "; checkpoint "
                                        + last.getFileName() + " written (--resume continues from it)"
                                        : "dinoj.train.max-minutes reached after step " + step);
                            }
                            break;
                        }
                    }
                }
            }
            comm.barrier();
            if (lead) {
                System.out.println(RESULT + startStep + " " + step + " " + (last == null ? "-" : last.toAbsolutePath()));
            }
        }
    }

    private static void say(String line) {
        System.out.println(LOG + line);
        System.out.flush();
    }
}
