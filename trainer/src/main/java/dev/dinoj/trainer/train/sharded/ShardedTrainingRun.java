package dev.dinoj.trainer.train.sharded;

import ai.djl.ndarray.NDManager;
import dev.dinoj.pipeline.data.EncodedImages;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.trainer.checkpoint.CheckpointException;
import dev.dinoj.trainer.checkpoint.Checkpoints;
import dev.dinoj.trainer.checkpoint.ShardedCheckpoints;
import dev.dinoj.trainer.collective.Communicator;
import dev.dinoj.trainer.collective.LocalRanks;
import dev.dinoj.trainer.collective.RankMain;
import dev.dinoj.trainer.collective.ShutdownStop;
import dev.dinoj.trainer.collective.World;
import dev.dinoj.trainer.config.ConfigError;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.train.DistillTeacher;
import dev.dinoj.trainer.train.DivergenceException;
import dev.dinoj.trainer.train.SslMetaArch;
import dev.dinoj.trainer.train.StepReport;
import dev.dinoj.trainer.train.TrainLoop;
import dev.dinoj.trainer.train.TrainingRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
    static final String LOG = RankStepper.LOG;

    private ShardedTrainingRun() {}

    /**
     * Starts the ranks and waits for them.
     *
     * @param config  preset or HOCON file; {@code sets} its overrides (every rank loads the same)
     * @param resume  continue from the newest (sharded) checkpoint in {@code outDir}, with any number of ranks
     * @param listener told about every step of rank 0 (step, total steps, total loss, images/s)
     */
    public static TrainLoop.Result launch(
            String config, List<String> sets, Path outDir, boolean resume, int ranks, TrainLoop.Listener listener)
            throws IOException, InterruptedException {
        return launch(config == null ? List.of() : List.of(config), sets, outDir, resume, ranks, listener);
    }

    /**
     * {@link #launch(String, List, Path, boolean, int, TrainLoop.Listener)} with layered configurations (each
     * preset or HOCON file overrides the ones before it, e.g. {@code dinoj distill}'s student preset, then
     * {@code --config}).
     */
    public static TrainLoop.Result launch(
            List<String> configs,
            List<String> sets,
            Path outDir,
            boolean resume,
            int ranks,
            TrainLoop.Listener listener)
            throws IOException, InterruptedException {
        TrainSettings s = TrainSettings.load(configs, sets);
        if (ranks < 1) {
            throw new IllegalArgumentException("--ranks must be >= 1: " + ranks);
        }
        if (s.batchSize() % ranks != 0) {
            throw new ConfigError("dinoj.train.batch-size = " + s.batchSize() + " is not a multiple of --ranks " + ranks
                    + " (every rank trains on batch-size / ranks images of each step)");
        }
        if (resume && s.distill().teacher() != null) { // before any rank starts, as a one-process resume does
            TrainingRun.checkTeacherRecord(
                    s.distill().teacher(),
                    DistillTeacher.sourceSha256(s.distill().teacher()),
                    outDir);
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
        clearSkipped(outDir);
        int threads = s.collectives().threadsPerRank(ranks);
        List<StepReport> reports = new ArrayList<>();
        long[] result = {-1, -1};
        String[] last = {null};
        try (LocalRanks world = s.collectives().formLocalRanks(ranks)) {
            List<String> jvm = s.collectives().rankJvmOptions(ranks);
            world.start(
                    System.getProperty("dinoj.rank.heap", "2g"),
                    jvm,
                    ShardedTrainingRun.class.getName(),
                    r -> {
                        List<String> a = new ArrayList<>(List.of(
                                "worker",
                                Integer.toString(r),
                                world.world().spec(),
                                Boolean.toString(world.ranksLaunchDrivers()),
                                outDir.toAbsolutePath().toString(),
                                Boolean.toString(resume),
                                Integer.toString(configs.size())));
                        a.addAll(configs);
                        a.addAll(sets);
                        return a;
                    },
                    outDir.resolve("ranks"));
            log.info(
                    "Started {} rank JVMs ({}, {} PyTorch thread(s) each, overlap {}); rank logs in {}",
                    ranks,
                    s.collectives().transport(),
                    threads,
                    s.collectives().overlap() ? "on" : "off",
                    outDir.resolve("ranks"));
            world.await(Long.MAX_VALUE / 4, line -> {
                if (line.startsWith(PROGRESS)) {
                    String[] f = line.substring(PROGRESS.length()).split(" ");
                    StepReport r = new StepReport(
                            Long.parseLong(f[0]),
                            Long.parseLong(f[1]),
                            Map.of(),
                            Double.parseDouble(f[2]),
                            null,
                            Map.of(),
                            Double.parseDouble(f[3]),
                            Double.parseDouble(f[4]),
                            Double.parseDouble(f[5]),
                            Integer.parseInt(f[6]));
                    reports.add(r);
                    listener.onStep(r);
                } else if (line.startsWith(LOG)) {
                    log.info(line.substring(LOG.length()));
                } else if (line.startsWith(RankStepper.WARN)) {
                    log.warn(line.substring(RankStepper.WARN.length()));
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
        return new TrainLoop.Result(
                result[0],
                result[1],
                last[0] == null ? null : Path.of(last[0]),
                reports,
                (System.nanoTime() - t0) / 1e9);
    }

    // =================================================================================================================
    // A rank (child JVM)
    // =================================================================================================================

    /**
     * {@code worker RANK WORLD OWN_DRIVER OUT RESUME K [CONFIG…(K)] [SET…]}: one rank of {@link #launch} (the world's
     * secret in the environment, {@link World#fromEnvironment}).
     */
    public static void main(String[] args) {
        if (args.length < 7 || !"worker".equals(args[0])) {
            System.err.println(
                    "usage: ShardedTrainingRun worker RANK WORLD OWN_DRIVER OUT RESUME K [CONFIG...(K)] [SET...]");
            System.exit(64);
        }
        int rank = Integer.parseInt(args[1]);
        LocalRanks.exitWithLauncher();
        World world = World.fromEnvironment(args[2], 0);
        Path out = Path.of(args[4]);
        boolean resume = Boolean.parseBoolean(args[5]);
        int k = Integer.parseInt(args[6]);
        TrainSettings s = TrainSettings.load(
                Arrays.asList(args).subList(7, 7 + k), Arrays.asList(args).subList(7 + k, args.length));
        RankMain.runAndHalt(
                world,
                rank,
                s.collectives().aeron(),
                Boolean.parseBoolean(args[3]),
                comm -> train(s, comm, out, resume),
                t -> t instanceof DivergenceException ? 3 : 1);
    }

    private static void train(TrainSettings s, Communicator comm, Path out, boolean resume) throws Exception {
        boolean lead = comm.rank() == 0;
        if (lead) {
            Files.createDirectories(out);
            Files.writeString(out.resolve("config.conf"), s.render());
        }
        ImageDataset data = s.openDataset();
        TrainLoop.requireOneBatch(data, s.batchSize());
        ExecutorService loader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "dinoj-rank-loader");
            t.setDaemon(true);
            return t;
        });
        try (ShutdownStop stop = new ShutdownStop(ShutdownStop.DEFAULT_GRACE);
                NDManager manager =
                        NDManager.newBaseManager(s.device().resolve(comm.world().localRank(comm.rank())));
                SslMetaArch model = lead
                        ? TrainingRun.createModel(s, manager, out, resume) // + the teacher record
                        : TrainingRun.createModel(s, manager);
                ShardedTrainer trainer = new ShardedTrainer(
                        model,
                        comm,
                        s.collectives().gradientWire(),
                        s.collectives().overlap() && comm.size() > 1)) { // one rank: the gradient stays on the device
            model.setCropPacking(s.loop().cropPacking());
            model.setActivationCheckpointing(s.loop().activationCheckpointing());
            TrainLoop loop = new TrainLoop(
                    s,
                    out,
                    new RankStepper(s, trainer, manager, resume),
                    (recipe, first, end, position) -> new RankBatchSource(
                            new RankBatches(
                                    data,
                                    recipe.augmentation(),
                                    recipe.collator(),
                                    s.batchSize(),
                                    comm.size(),
                                    s.seed()),
                            comm.rank(),
                            first,
                            end,
                            loader),
                    lead ? LEAD_REPORTER : SILENT,
                    lead);
            TrainLoop.Result r = loop.run(stop);
            if (data instanceof EncodedImages e) {
                writeSkipped(out, comm.rank(), e.guard().skippedIndices());
            }
            if (lead) {
                System.out.println(RESULT + r.startStep() + " " + r.endStep() + " "
                        + (r.lastCheckpoint() == null ? "-" : r.lastCheckpoint().toAbsolutePath()));
            }
        } finally {
            loader.shutdownNow();
        }
    }

    /**
     * The images a rank skipped over the pixel guard ({@code OUT/ranks/skipped-R.txt}, one dataset index per line):
     * each rank decodes its own part of every batch, so the run's count is the union, which {@link #skippedImages}
     * reads after the ranks exit.
     */
    private static void writeSkipped(Path out, int rank, int[] indices) throws IOException {
        Path dir = out.resolve("ranks");
        Files.createDirectories(dir);
        StringBuilder b = new StringBuilder();
        for (int i : indices) {
            b.append(i).append('\n');
        }
        Files.writeString(dir.resolve("skipped-" + rank + ".txt"), b);
    }

    /** Removes the skipped-image lists of an earlier invocation. */
    private static void clearSkipped(Path outDir) throws IOException {
        for (Path f : skippedLists(outDir)) {
            Files.delete(f);
        }
    }

    /** The ranks' skipped-image lists in {@code outDir/ranks} ({@link #writeSkipped}). */
    private static List<Path> skippedLists(Path outDir) throws IOException {
        Path dir = outDir.resolve("ranks");
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (var files = Files.list(dir)) {
            return files.filter(f -> {
                        String name = f.getFileName().toString();
                        return name.startsWith("skipped-") && name.endsWith(".txt");
                    })
                    .toList();
        }
    }

    /**
     * Distinct images of the dataset skipped over the pixel guard ({@code data.max-image-pixels}) by any rank of the
     * run in {@code outDir}'s last invocation, or -1 when its dataset has no guard (IDX) or no rank wrote its list.
     */
    public static int skippedImages(Path outDir) throws IOException {
        List<Path> lists = skippedLists(outDir);
        if (lists.isEmpty()) {
            return -1;
        }
        Set<Integer> union = new TreeSet<>();
        for (Path f : lists) {
            for (String line : Files.readAllLines(f)) {
                if (!line.isBlank()) {
                    union.add(Integer.parseInt(line.trim()));
                }
            }
        }
        return union.size();
    }

    /** Rank 0 relays its progress and log lines to the launcher through stdout. */
    private static final TrainLoop.Reporter LEAD_REPORTER = new TrainLoop.Reporter() {
        @Override
        public void info(String line) {
            RankStepper.say(line);
        }

        @Override
        public void step(StepReport r, String logLine) {
            System.out.println(String.format(
                    Locale.ROOT,
                    "%s%d %d %.6f %.4f %.6f %.6f %d",
                    PROGRESS,
                    r.step(),
                    r.totalSteps(),
                    r.totalLoss(),
                    r.imagesPerSecond(),
                    r.dataWaitSeconds(),
                    r.computeSeconds(),
                    r.globalCropSize()));
            if (logLine != null) {
                RankStepper.say(logLine);
            }
        }
    };

    /** The other ranks report nothing (rank 0's figures are the run's: losses and norms are global). */
    private static final TrainLoop.Reporter SILENT = new TrainLoop.Reporter() {
        @Override
        public void info(String line) {}

        @Override
        public void step(StepReport r, String logLine) {}
    };
}
