package dev.dinoj.trainer.bench;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.masking.CollatedBatch;
import dev.dinoj.trainer.checkpoint.AtomicDirectory;
import dev.dinoj.trainer.collective.Communicator;
import dev.dinoj.trainer.collective.LocalRanks;
import dev.dinoj.trainer.collective.RankMain;
import dev.dinoj.trainer.collective.World;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.train.BatchRecipe;
import dev.dinoj.trainer.train.SslMetaArch;
import dev.dinoj.trainer.train.StepBatch;
import dev.dinoj.trainer.train.StepRandom;
import dev.dinoj.trainer.train.TrainingRun;
import dev.dinoj.trainer.train.sharded.RankBatches;
import dev.dinoj.trainer.train.sharded.ShardedTrainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@code dinoj bench train-step --ranks N}: the sharded training step of N rank JVMs on this host (the machinery of
 * {@code train --ranks N}: {@link LocalRanks}, IPC through one shared media driver unless configured otherwise).
 * Every rank times each step: the whole step, the time its step thread was blocked in communication (global sums of
 * the forward, waiting for the gradient reduce-scatter, the statistics all-reduce, the parameter all-gather), and the
 * compute (the rest: forward + backward, gradient copies, sharded AdamW, write-back, EMA). A step takes as long as
 * its slowest rank, so per step the report takes the maximum over ranks of each figure, then the median over the
 * measured steps; overhead = step / compute − 1 (the share of the step not covered by the slowest rank's compute).
 */
public final class ShardedStepBench {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One rank's measurement of one step. */
    public record RankStep(
            int rank,
            int step,
            double stepSeconds,
            double computeSeconds,
            double communicationSeconds,
            double forwardBackwardSeconds,
            double optimizerSeconds,
            double dataWaitSeconds,
            double globalSumSeconds,
            double gradientWaitSeconds,
            double reduceScatterSeconds,
            boolean overlapped) {}

    /** Where progress lines go. */
    public interface PrintLogger {
        void println(String line);
    }

    private ShardedStepBench() {}

    /**
     * Runs the benchmark.
     *
     * @param config preset or HOCON file, {@code sets} its overrides (the ranks load the same)
     */
    public static ShardedStepReport run(
            String config, List<String> sets, int ranks, int warmup, int steps, PrintLogger out)
            throws IOException, InterruptedException {
        return runAll(config, sets, ranks, warmup, steps, false, out).get(0);
    }

    /**
     * Overlap off and on in alternate steps of the same ranks (even steps off, odd steps on), so that both see the
     * same machine load: the reports of the off steps and of the on steps.
     */
    public static List<ShardedStepReport> compareOverlap(
            String config, List<String> sets, int ranks, int warmup, int steps, PrintLogger out)
            throws IOException, InterruptedException {
        return runAll(config, sets, ranks, warmup, steps, true, out);
    }

    /** Both reports of {@link #compareOverlap} as one JSON line. */
    public static String compareJson(List<ShardedStepReport> r) {
        ObjectNode o = JSON.createObjectNode();
        o.put("bench", "train-step-sharded-overlap");
        try {
            o.set("off", JSON.readTree(r.get(0).json()));
            o.set("on", JSON.readTree(r.get(1).json()));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        o.put("step_on_over_off", r.get(1).stepSeconds() / r.get(0).stepSeconds());
        return o.toString();
    }

    private static List<ShardedStepReport> runAll(
            String config, List<String> sets, int ranks, int warmup, int steps, boolean alternate, PrintLogger out)
            throws IOException, InterruptedException {
        if (ranks < 1) {
            throw new IllegalArgumentException("--ranks must be >= 1: " + ranks);
        }
        if (steps < 1 || warmup < 0) {
            throw new IllegalArgumentException("--steps must be >= 1 and --warmup >= 0");
        }
        TrainSettings s = TrainSettings.load(config, sets);
        if (s.batchSize() % ranks != 0) {
            throw new IllegalArgumentException("dinoj.train.batch-size = " + s.batchSize()
                    + " is not a multiple of --ranks " + ranks + " (every rank trains on batch / ranks images)");
        }
        String loadBefore = loadAverage();
        Path logDir = Files.createTempDirectory("dinoj-bench-train-step-");
        int threads = s.collectives().threadsPerRank(ranks);
        List<RankStep> all = new ArrayList<>();
        try (LocalRanks world = s.collectives().formLocalRanks(ranks)) {
            List<String> jvm = s.collectives().rankJvmOptions(ranks);
            world.start(
                    "2g",
                    jvm,
                    ShardedStepBench.class.getName(),
                    r -> {
                        List<String> a = new ArrayList<>(List.of(
                                "worker",
                                Integer.toString(r),
                                world.world().spec(),
                                Boolean.toString(world.ranksLaunchDrivers()),
                                Integer.toString(warmup),
                                Integer.toString(alternate ? 2 * steps : steps),
                                alternate ? "alternate" : "fixed",
                                config));
                        a.addAll(sets);
                        return a;
                    },
                    logDir);
            out.println("started " + ranks + " rank JVMs (" + s.collectives().transport() + ", " + threads
                    + " PyTorch thread(s) each); logs in " + logDir);
            world.await(30 * 60_000L, line -> {
                if (line.startsWith("STEP ")) {
                    String[] f = line.split(" ");
                    out.println(String.format(
                            Locale.ROOT,
                            "step %s%s: %.3f s (blocked in communication %.3f s)%s",
                            f[2],
                            Integer.parseInt(f[2]) < warmup ? " (warm-up)" : "",
                            Double.parseDouble(f[3]),
                            Double.parseDouble(f[5]),
                            alternate ? ("1".equals(f[12]) ? ", overlap on" : ", overlap off") : ""));
                }
            });
            for (int r = 0; r < ranks; r++) {
                for (String line : Files.readAllLines(world.log(r))) {
                    if (line.startsWith("STEP ")) {
                        String[] f = line.split(" ");
                        all.add(new RankStep(
                                Integer.parseInt(f[1]),
                                Integer.parseInt(f[2]),
                                Double.parseDouble(f[3]),
                                Double.parseDouble(f[4]),
                                Double.parseDouble(f[5]),
                                Double.parseDouble(f[6]),
                                Double.parseDouble(f[7]),
                                Double.parseDouble(f[8]),
                                Double.parseDouble(f[9]),
                                Double.parseDouble(f[10]),
                                Double.parseDouble(f[11]),
                                "1".equals(f[12])));
                    }
                }
            }
        }
        String machine =
                Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.arch") + ", Java "
                        + System.getProperty("java.version") + ", load average " + loadBefore + " -> " + loadAverage();
        List<ShardedStepReport> reports = new ArrayList<>();
        if (alternate) {
            reports.add(summarise(
                    config,
                    s,
                    ranks,
                    threads,
                    warmup,
                    all.stream().filter(x -> !x.overlapped()).toList(),
                    false,
                    machine));
            reports.add(summarise(
                    config,
                    s,
                    ranks,
                    threads,
                    warmup,
                    all.stream().filter(RankStep::overlapped).toList(),
                    true,
                    machine));
        } else {
            reports.add(summarise(
                    config, s, ranks, threads, warmup, all, s.collectives().overlap(), machine));
        }
        AtomicDirectory.deleteQuietly(logDir);
        return reports;
    }

    static ShardedStepReport summarise(
            String config,
            TrainSettings s,
            int ranks,
            int threads,
            int warmup,
            List<RankStep> all,
            boolean overlap,
            String machine) {
        TreeMap<Integer, double[]> perStep = new TreeMap<>(); // maxima over ranks
        Map<Integer, double[][]> byRank = new TreeMap<>();
        final int fields = 9;
        for (RankStep x : all) {
            if (x.step() < warmup) {
                continue;
            }
            double[] v = {
                x.stepSeconds(),
                x.computeSeconds(),
                x.communicationSeconds(),
                x.forwardBackwardSeconds(),
                x.optimizerSeconds(),
                x.dataWaitSeconds(),
                x.stepSeconds() + x.dataWaitSeconds(),
                x.globalSumSeconds(),
                x.gradientWaitSeconds()
            };
            double[] m = perStep.computeIfAbsent(x.step(), k -> new double[fields + 1]);
            for (int f = 0; f < fields; f++) {
                m[f] = Math.max(m[f], v[f]);
            }
            m[fields] = Math.max(m[fields], x.reduceScatterSeconds());
            byRank.computeIfAbsent(x.step(), k -> new double[ranks][]);
            byRank.get(x.step())[x.rank()] =
                    new double[] {x.stepSeconds(), x.computeSeconds(), x.communicationSeconds()};
        }
        int steps = perStep.size();
        double[][] cols = new double[fields + 1][steps];
        int i = 0;
        for (double[] m : perStep.values()) {
            for (int f = 0; f <= fields; f++) {
                cols[f][i] = m[f];
            }
            i++;
        }
        double[] rankComm = new double[ranks];
        double[] rankOverhead = new double[ranks];
        for (int r = 0; r < ranks; r++) {
            double[] st = new double[steps];
            double[] co = new double[steps];
            double[] cm = new double[steps];
            int k = 0;
            for (double[][] rs : byRank.values()) {
                if (rs[r] != null) {
                    st[k] = rs[r][0];
                    co[k] = rs[r][1];
                    cm[k] = rs[r][2];
                }
                k++;
            }
            rankComm[r] = median(cm);
            rankOverhead[r] = median(st) / median(co) - 1;
        }
        double stepMedian = median(cols[0]);
        double computeMedian = median(cols[1]);
        return new ShardedStepReport(
                config,
                ranks,
                s.batchSize(),
                threads,
                s.collectives().transport(),
                overlap,
                s.collectives().gradientWire().name().toLowerCase(Locale.ROOT),
                steps,
                stepMedian,
                computeMedian,
                median(cols[2]),
                median(cols[3]),
                median(cols[4]),
                median(cols[5]),
                stepMedian / computeMedian - 1,
                s.batchSize() / median(cols[6]),
                rankComm,
                rankOverhead,
                median(cols[7]),
                median(cols[8]),
                median(cols[9]),
                machine,
                Instant.now().toString());
    }

    static double median(double[] xs) {
        double[] a = xs.clone();
        Arrays.sort(a);
        return a.length == 0
                ? Double.NaN
                : a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    // =================================================================================================================
    // A rank (child JVM)
    // =================================================================================================================

    /**
     * {@code worker RANK WORLD OWN_DRIVER WARMUP STEPS fixed|alternate CONFIG [SET…]}: one rank of {@link #run}
     * ({@code alternate}: overlap off in even steps, on in odd steps; the world's secret in the environment).
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 8 || !"worker".equals(args[0])) {
            System.err.println(
                    "usage: ShardedStepBench worker RANK WORLD OWN_DRIVER WARMUP STEPS fixed|alternate CONFIG "
                            + "[SET...]");
            System.exit(64);
        }
        int rank = Integer.parseInt(args[1]);
        LocalRanks.exitWithLauncher();
        World world = World.fromEnvironment(args[2], 0);
        boolean ownDriver = Boolean.parseBoolean(args[3]);
        int warmup = Integer.parseInt(args[4]);
        int steps = Integer.parseInt(args[5]);
        boolean alternate = "alternate".equals(args[6]);
        TrainSettings s = TrainSettings.load(args[7], Arrays.asList(args).subList(8, args.length));
        ExecutorService loader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "dinoj-bench-loader");
            t.setDaemon(true);
            return t;
        });
        RankMain.runAndHalt(
                world,
                rank,
                s.collectives().aeron(),
                ownDriver,
                comm -> {
                    try (NDManager manager = NDManager.newBaseManager(s.device().resolve(world.localRank(rank)))) {
                        benchRank(s, comm, manager, loader, warmup, steps, alternate);
                    }
                },
                t -> 1);
    }

    private static void benchRank(
            TrainSettings s,
            Communicator comm,
            NDManager manager,
            ExecutorService loader,
            int warmup,
            int steps,
            boolean alternate)
            throws Exception {
        int rank = comm.rank();
        ImageDataset data = s.openDataset();
        BatchRecipe recipe = BatchRecipe.of(s, false);
        RankBatches batches =
                new RankBatches(data, recipe.augmentation(), recipe.collator(), s.batchSize(), comm.size(), s.seed());
        try (SslMetaArch model = TrainingRun.createModel(s, manager);
                ShardedTrainer trainer = new ShardedTrainer(
                        model,
                        comm,
                        s.collectives().gradientWire(),
                        alternate || s.collectives().overlap())) {
            model.setCropPacking(s.loop().cropPacking());
            model.setActivationCheckpointing(s.loop().activationCheckpointing());
            Future<CollatedBatch> next = loader.submit(() -> batches.batch(0, rank));
            for (int step = 0; step < warmup + steps; step++) {
                long t0 = System.nanoTime();
                CollatedBatch cb = next.get();
                double wait = (System.nanoTime() - t0) / 1e9;
                final long following = step + 1;
                next = loader.submit(() -> batches.batch(following, rank));
                if (alternate) {
                    trainer.setOverlap(step % 2 == 1);
                }
                ShardedTrainer.StepResult r;
                try (NDManager m = manager.newSubManager()) {
                    r = trainer.step(
                            step, StepBatch.of(m, cb), s.schedules().at(step), StepRandom.forStep(s.seed(), step));
                }
                System.out.println(String.format(
                        Locale.ROOT,
                        "STEP %d %d %.6f %.6f %.6f %.6f %.6f %.6f %.6f %.6f %.6f %d",
                        rank,
                        step,
                        r.stepSeconds(),
                        r.computeSeconds(),
                        r.communicationSeconds(),
                        r.forwardBackwardSeconds(),
                        r.optimizerSeconds(),
                        wait,
                        r.globalSumSeconds(),
                        r.gradientWaitSeconds(),
                        r.reduceScatterSeconds(),
                        r.overlapped() ? 1 : 0));
                System.out.flush();
            }
            comm.barrier();
        }
    }
}
