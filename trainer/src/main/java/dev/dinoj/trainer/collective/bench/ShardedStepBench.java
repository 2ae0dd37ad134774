package dev.dinoj.trainer.collective.bench;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.pipeline.augment.MultiCropAugmentation;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.masking.CollatedBatch;
import dev.dinoj.pipeline.masking.Collator;
import dev.dinoj.pipeline.masking.MaskingGenerator;
import dev.dinoj.trainer.collective.CollectiveSettings;
import dev.dinoj.trainer.collective.Communicator;
import dev.dinoj.trainer.collective.EmbeddedDriver;
import dev.dinoj.trainer.collective.LocalRanks;
import dev.dinoj.trainer.collective.World;
import dev.dinoj.trainer.collective.sharded.RankBatches;
import dev.dinoj.trainer.collective.sharded.ShardedTrainer;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.train.SslMetaArch;
import dev.dinoj.trainer.train.StepRandom;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
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
    public record RankStep(int rank, int step, double stepSeconds, double computeSeconds, double communicationSeconds,
                           double forwardBackwardSeconds, double optimizerSeconds, double dataWaitSeconds,
                           double globalSumSeconds, double gradientWaitSeconds) {
    }

    /** The benchmark's result (medians over the measured steps of the per-step maxima over ranks). */
    public record Report(String config, int ranks, int globalBatch, int threadsPerRank, String transport, boolean overlap,
                         String gradientWire, int steps, double stepSeconds, double computeSeconds,
                         double communicationSeconds, double forwardBackwardSeconds, double optimizerSeconds,
                         double dataWaitSeconds, double overhead, double imagesPerSecond, double[] rankCommunication,
                         double[] rankOverhead, double globalSumSeconds, double gradientWaitSeconds,
                         String machine, String date) {

        public String table() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "sharded train-step: %s, %d ranks (JVMs, %d PyTorch thread%s each), "
                            + "global batch %d, transport %s, overlap %s, gradients %s, %d measured steps%n", config, ranks,
                    threadsPerRank, threadsPerRank == 1 ? "" : "s", globalBatch, transport, overlap ? "on" : "off",
                    gradientWire, steps));
            sb.append(String.format(Locale.ROOT, "  %s, %s%n", machine, date));
            row(sb, "images/s", String.format(Locale.ROOT, "%.2f", imagesPerSecond));
            row(sb, "step time (s)", String.format(Locale.ROOT, "%.3f", stepSeconds));
            row(sb, "  compute (s)", String.format(Locale.ROOT, "%.3f", computeSeconds));
            row(sb, "    forward+backward (s)", String.format(Locale.ROOT, "%.3f", forwardBackwardSeconds));
            row(sb, "    optimizer shard + write-back + EMA (s)", String.format(Locale.ROOT, "%.3f", optimizerSeconds));
            row(sb, "  blocked in communication (s)", String.format(Locale.ROOT, "%.3f", communicationSeconds));
            StringBuilder per = new StringBuilder();
            for (double c : rankCommunication) {
                per.append(per.length() > 0 ? " / " : "").append(String.format(Locale.ROOT, "%.3f", c));
            }
            row(sb, "    per rank (s)", per.toString());
            row(sb, "    global sums in the forward (s)", String.format(Locale.ROOT, "%.3f", globalSumSeconds));
            row(sb, "    waiting for the gradient reduce-scatter (s)", String.format(Locale.ROOT, "%.3f", gradientWaitSeconds));
            row(sb, "waiting for data (s)", String.format(Locale.ROOT, "%.3f", dataWaitSeconds));
            row(sb, "overhead = step / compute - 1", String.format(Locale.ROOT, "%.1f %%", 100 * overhead));
            StringBuilder ro = new StringBuilder();
            for (double x : rankOverhead) {
                ro.append(ro.length() > 0 ? " / " : "").append(String.format(Locale.ROOT, "%.1f %%", 100 * x));
            }
            row(sb, "  per rank: own step / own compute - 1", ro.toString());
            return sb.toString();
        }

        private static void row(StringBuilder sb, String k, String v) {
            sb.append(String.format(Locale.ROOT, "  %-44s %14s%n", k, v));
        }

        public String json() {
            ObjectNode o = JSON.createObjectNode();
            o.put("bench", "train-step-sharded");
            o.put("config", config);
            o.put("ranks", ranks);
            o.put("global_batch", globalBatch);
            o.put("threads_per_rank", threadsPerRank);
            o.put("transport", transport);
            o.put("overlap", overlap);
            o.put("gradient_wire", gradientWire);
            o.put("steps", steps);
            o.put("images_per_s", imagesPerSecond);
            o.put("step_s", stepSeconds);
            o.put("compute_s", computeSeconds);
            o.put("communication_s", communicationSeconds);
            o.put("forward_backward_s", forwardBackwardSeconds);
            o.put("optimizer_s", optimizerSeconds);
            o.put("data_wait_s", dataWaitSeconds);
            o.put("overhead", overhead);
            o.put("global_sum_s", globalSumSeconds);
            o.put("gradient_wait_s", gradientWaitSeconds);
            ArrayNode a = o.putArray("communication_s_per_rank");
            for (double c : rankCommunication) {
                a.add(c);
            }
            ArrayNode ro = o.putArray("overhead_per_rank");
            for (double x : rankOverhead) {
                ro.add(x);
            }
            o.put("machine", machine);
            o.put("date", date);
            return o.toString();
        }
    }

    /** Where progress lines go. */
    public interface PrintLogger {
        void println(String line);
    }

    private ShardedStepBench() {
    }

    /**
     * Runs the benchmark.
     *
     * @param config preset or HOCON file, {@code sets} its overrides (the ranks load the same)
     */
    public static Report run(String config, List<String> sets, int ranks, int warmup, int steps, PrintLogger out)
            throws IOException, InterruptedException {
        if (ranks < 1) {
            throw new IllegalArgumentException("--ranks must be >= 1: " + ranks);
        }
        if (steps < 1 || warmup < 0) {
            throw new IllegalArgumentException("--steps must be >= 1 and --warmup >= 0");
        }
        TrainSettings s = TrainSettings.load(config, sets);
        if (s.batchSize() % ranks != 0) {
            throw new IllegalArgumentException("dinoj.train.batch-size = " + s.batchSize() + " is not a multiple of --ranks "
                    + ranks + " (every rank trains on batch / ranks images)");
        }
        String loadBefore = loadAverage();
        Path logDir = Files.createTempDirectory("dinoj-bench-train-step-");
        int threads = s.threadsPerRank(ranks);
        List<RankStep> all = new ArrayList<>();
        try (LocalRanks world = LocalRanks.form(ranks, s.collectiveTransport(), s.collectivesBasePort(), s.collectives())) {
            List<String> jvm = List.of("-Dai.djl.pytorch.num_threads=" + threads, "-Dai.djl.pytorch.num_interop_threads=1");
            world.start("2g", jvm, ShardedStepBench.class.getName(), r -> {
                List<String> a = new ArrayList<>(List.of("worker", Integer.toString(r), world.world().spec(),
                        Boolean.toString(world.ranksLaunchDrivers()), Integer.toString(warmup), Integer.toString(steps),
                        config));
                a.addAll(sets);
                return a;
            }, logDir);
            out.println("started " + ranks + " rank JVMs (" + s.collectiveTransport() + ", " + threads
                    + " PyTorch thread(s) each); logs in " + logDir);
            world.await(30 * 60_000L, line -> {
                if (line.startsWith("STEP ")) {
                    String[] f = line.split(" ");
                    out.println(String.format(Locale.ROOT, "step %s%s: %.3f s (blocked in communication %.3f s)", f[2],
                            Integer.parseInt(f[2]) < warmup ? " (warm-up)" : "", Double.parseDouble(f[3]),
                            Double.parseDouble(f[5])));
                }
            });
            for (int r = 0; r < ranks; r++) {
                for (String line : Files.readAllLines(world.log(r))) {
                    if (line.startsWith("STEP ")) {
                        String[] f = line.split(" ");
                        all.add(new RankStep(Integer.parseInt(f[1]), Integer.parseInt(f[2]), Double.parseDouble(f[3]),
                                Double.parseDouble(f[4]), Double.parseDouble(f[5]), Double.parseDouble(f[6]),
                                Double.parseDouble(f[7]), Double.parseDouble(f[8]), Double.parseDouble(f[9]),
                                Double.parseDouble(f[10])));
                    }
                }
            }
        }
        Report r = summarise(config, s, ranks, threads, warmup, steps, all,
                Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.arch") + ", Java "
                        + System.getProperty("java.version") + ", load average " + loadBefore + " -> " + loadAverage());
        deleteTree(logDir);
        return r;
    }

    static Report summarise(String config, TrainSettings s, int ranks, int threads, int warmup, int steps,
                            List<RankStep> all, String machine) {
        double[] step = new double[steps];
        double[] compute = new double[steps];
        double[] comm = new double[steps];
        double[] fb = new double[steps];
        double[] opt = new double[steps];
        double[] wait = new double[steps];
        double[] wall = new double[steps];
        double[] sums = new double[steps];
        double[] gradWait = new double[steps];
        double[][] perRank = new double[ranks][steps];
        double[][] rankStep = new double[ranks][steps];
        double[][] rankCompute = new double[ranks][steps];
        for (RankStep x : all) {
            int i = x.step() - warmup;
            if (i < 0 || i >= steps) {
                continue;
            }
            step[i] = Math.max(step[i], x.stepSeconds());
            compute[i] = Math.max(compute[i], x.computeSeconds());
            comm[i] = Math.max(comm[i], x.communicationSeconds());
            fb[i] = Math.max(fb[i], x.forwardBackwardSeconds());
            opt[i] = Math.max(opt[i], x.optimizerSeconds());
            wait[i] = Math.max(wait[i], x.dataWaitSeconds());
            wall[i] = Math.max(wall[i], x.stepSeconds() + x.dataWaitSeconds());
            sums[i] = Math.max(sums[i], x.globalSumSeconds());
            gradWait[i] = Math.max(gradWait[i], x.gradientWaitSeconds());
            perRank[x.rank()][i] = x.communicationSeconds();
            rankStep[x.rank()][i] = x.stepSeconds();
            rankCompute[x.rank()][i] = x.computeSeconds();
        }
        double[] rankComm = new double[ranks];
        double[] rankOverhead = new double[ranks];
        for (int r = 0; r < ranks; r++) {
            rankComm[r] = median(perRank[r]);
            rankOverhead[r] = median(rankStep[r]) / median(rankCompute[r]) - 1;
        }
        double stepMedian = median(step);
        double computeMedian = median(compute);
        return new Report(config, ranks, s.batchSize(), threads, s.collectiveTransport(), s.overlapCommunication(),
                s.gradientWire().name().toLowerCase(Locale.ROOT), steps, stepMedian, computeMedian, median(comm),
                median(fb), median(opt), median(wait), stepMedian / computeMedian - 1, s.batchSize() / median(wall),
                rankComm, rankOverhead, median(sums), median(gradWait), machine, Instant.now().toString());
    }

    static double median(double[] xs) {
        double[] a = xs.clone();
        Arrays.sort(a);
        return a.length == 0 ? Double.NaN : a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    private static void deleteTree(Path dir) {
        try (var s = Files.walk(dir)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException ignored) {
            // best effort
        }
    }

    // =================================================================================================================
    // A rank (child JVM)
    // =================================================================================================================

    /** {@code worker RANK WORLD OWN_DRIVER WARMUP STEPS CONFIG [SET…]}: one rank of {@link #run}. */
    public static void main(String[] args) throws Exception {
        if (args.length < 7 || !"worker".equals(args[0])) {
            System.err.println("usage: ShardedStepBench worker RANK WORLD OWN_DRIVER WARMUP STEPS CONFIG [SET...]");
            System.exit(64);
        }
        int rank = Integer.parseInt(args[1]);
        World world = World.parse(args[2], 0);
        boolean ownDriver = Boolean.parseBoolean(args[3]);
        int warmup = Integer.parseInt(args[4]);
        int steps = Integer.parseInt(args[5]);
        TrainSettings s = TrainSettings.load(args[6], Arrays.asList(args).subList(7, args.length));
        CollectiveSettings cs = s.collectives();
        int code = 0;
        EmbeddedDriver driver = ownDriver ? EmbeddedDriver.launch(world.member(rank).driverDir(), cs) : null;
        ExecutorService loader = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "dinoj-bench-loader");
            t.setDaemon(true);
            return t;
        });
        try (Communicator comm = Communicator.join(world, rank, cs);
             NDManager manager = NDManager.newBaseManager()) {
            ImageDataset data = s.dataset().open();
            var crops = s.multiCrop(false);
            Collator collator = new Collator(s.maskRatioMinMax()[0], s.maskRatioMinMax()[1], s.maskSampleProbability(),
                    MaskingGenerator.forGlobalCrops(crops.globalCropsSize(), s.ssl().backbone().patchSize()));
            RankBatches batches = new RankBatches(data, new MultiCropAugmentation(crops), collator, s.batchSize(),
                    world.size(), s.seed());
            try (SslMetaArch model = SslMetaArch.create(manager, s.ssl(), s.seed());
                 ShardedTrainer trainer = new ShardedTrainer(model, comm, s.gradientWire(), s.overlapCommunication())) {
                model.setCropPacking(s.cropPacking());
                Future<CollatedBatch> next = loader.submit(() -> batches.batch(0, rank));
                for (int step = 0; step < warmup + steps; step++) {
                    long t0 = System.nanoTime();
                    CollatedBatch cb = next.get();
                    double wait = (System.nanoTime() - t0) / 1e9;
                    final long following = step + 1;
                    next = loader.submit(() -> batches.batch(following, rank));
                    ShardedTrainer.StepResult r;
                    try (NDManager m = manager.newSubManager()) {
                        r = trainer.step(step, RankBatches.toDevice(m, cb), s.schedules().at(step),
                                StepRandom.forStep(s.seed(), step));
                    }
                    System.out.println(String.format(Locale.ROOT, "STEP %d %d %.6f %.6f %.6f %.6f %.6f %.6f %.6f %.6f", rank,
                            step, r.stepSeconds(), r.computeSeconds(), r.communicationSeconds(), r.forwardBackwardSeconds(),
                            r.optimizerSeconds(), wait, r.globalSumSeconds(), r.gradientWaitSeconds()));
                    System.out.flush();
                }
                comm.barrier();
                System.out.println("DONE " + rank + " " + comm.stats());
            }
        } catch (Throwable t) {
            System.out.println("FAILED " + t);
            t.printStackTrace(System.out);
            code = 1;
        } finally {
            if (driver != null) {
                driver.close();
            }
        }
        System.out.flush();
        Runtime.getRuntime().halt(code);
    }
}
