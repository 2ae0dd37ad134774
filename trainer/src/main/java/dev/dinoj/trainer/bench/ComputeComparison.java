package dev.dinoj.trainer.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.loader.BatchLoader;
import dev.dinoj.pipeline.loader.EpochSampler;
import dev.dinoj.pipeline.masking.CollatedBatch;
import dev.dinoj.trainer.config.SslConfig;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.model.AttentionKernel;
import dev.dinoj.trainer.model.Compute;
import dev.dinoj.trainer.model.Precision;
import dev.dinoj.trainer.train.BatchRecipe;
import dev.dinoj.trainer.train.SslMetaArch;
import dev.dinoj.trainer.train.StepBatch;
import dev.dinoj.trainer.train.StepRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code bench train-step --compare-precision} (and {@code --compare-attention}): the training step of one
 * configuration computed two ways (float32 and bfloat16; fused and manual attention), in one process on the same
 * batches, the two models' steps interleaved (each batch goes through both, in alternating order) so that both see
 * the same machine load. images/s here is the batch over the step's compute time (teacher,
 * student, backward, optimizer), without waiting for data; peak memory is the process's resident peak during each
 * model's steps (both models are resident).
 */
public final class ComputeComparison {

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Both rows and the images/s ratio {@code other / base}.
     *
     * @param baseCpuSeconds  median process CPU time of {@code base}'s steps (all threads: a measure of the work that
     *                        other processes on the machine disturb less than wall time; includes the data loader's
     *                        share)
     * @param otherCpuSeconds the same for {@code other}
     */
    public record Result(
            TrainStepBench.Result base, TrainStepBench.Result other, double baseCpuSeconds, double otherCpuSeconds) {

        /** Without CPU times (NaN). */
        public Result(TrainStepBench.Result base, TrainStepBench.Result other) {
            this(base, other, Double.NaN, Double.NaN);
        }

        /** {@code other}'s images/s over {@code base}'s. */
        public double speedup() {
            return other.imagesPerSecond() / base.imagesPerSecond();
        }

        public String table() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(
                    Locale.ROOT,
                    "train-step comparison: %s, batch %d, %d measured steps each (interleaved), %s, " + "%d threads%n",
                    base.config(),
                    base.batch(),
                    base.steps(),
                    base.engine(),
                    base.threads()));
            sb.append(String.format(
                    Locale.ROOT, "  %-36s %12s %12s %10s%n", "", base.compute(), other.compute(), "ratio"));
            row(sb, "images/s", base.imagesPerSecond(), other.imagesPerSecond(), "%.2f");
            row(sb, "step time (s)", base.stepSeconds(), other.stepSeconds(), "%.3f");
            row(sb, "  teacher forward + centering (s)", base.teacherSeconds(), other.teacherSeconds(), "%.3f");
            row(
                    sb,
                    "  student forward + heads + losses (s)",
                    base.studentForwardSeconds(),
                    other.studentForwardSeconds(),
                    "%.3f");
            row(sb, "  backward (s)", base.backwardSeconds(), other.backwardSeconds(), "%.3f");
            row(sb, "  optimizer: clip+AdamW+EMA (s)", base.optimizerSeconds(), other.optimizerSeconds(), "%.3f");
            row(sb, "achieved (GFLOP/s)", base.achievedGflops(), other.achievedGflops(), "%.1f");
            row(sb, "process CPU time per step (s)", baseCpuSeconds, otherCpuSeconds, "%.3f");
            row(sb, "peak resident memory (MiB)", base.peakResidentMiB(), other.peakResidentMiB(), "%.0f");
            sb.append(String.format(
                    Locale.ROOT,
                    "  float32 GEMM peak, same run: %.1f GFLOP/s; model work %.1f GFLOP/step%n",
                    base.gemmPeakGflops(),
                    base.gflopPerStep()));
            return sb.toString();
        }

        private static void row(StringBuilder sb, String k, double a, double b, String fmt) {
            sb.append(String.format(
                    Locale.ROOT,
                    "  %-36s %12s %12s %10s%n",
                    k,
                    String.format(Locale.ROOT, fmt, a),
                    String.format(Locale.ROOT, fmt, b),
                    String.format(Locale.ROOT, "%.2f", b / a)));
        }

        /** One JSON line: both rows (as {@code bench train-step} writes them) and the images/s ratio. */
        public String json() {
            try {
                ObjectNode o = JSON.createObjectNode();
                o.put("bench", "train-step-compare");
                o.put("config", base.config());
                o.put("images_per_s_ratio", Math.round(speedup() * 1000) / 1000.0);
                o.set("base", JSON.readTree(base.json()));
                o.set("other", JSON.readTree(other.json()));
                putFinite(o, "base_cpu_s_per_step", baseCpuSeconds);
                putFinite(o, "other_cpu_s_per_step", otherCpuSeconds);
                return o.toString();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }

    private static void putFinite(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) {
            o.put(key, Math.round(v * 1e4) / 1e4);
        } else {
            o.putNull(key);
        }
    }

    private ComputeComparison() {}

    /** Float32 against bfloat16, both with {@code s}'s attention kernel. */
    public static Result precisions(String configName, TrainSettings s, ImageDataset data, int warmup, int steps) {
        Compute c = s.ssl().compute();
        return run(
                configName, s, data, warmup, steps, c.withPrecision(Precision.FP32), c.withPrecision(Precision.BF16));
    }

    /** Manual against fused attention, both in {@code s}'s precision. */
    public static Result attentions(String configName, TrainSettings s, ImageDataset data, int warmup, int steps) {
        Compute c = s.ssl().compute();
        return run(
                configName,
                s,
                data,
                warmup,
                steps,
                c.withAttention(AttentionKernel.MANUAL),
                c.withAttention(AttentionKernel.SDPA));
    }

    /** Runs {@code warmup + steps} batches through a model of {@code s}'s configuration computing as {@code base} and
     * one computing as {@code other}. */
    public static Result run(
            String configName, TrainSettings s, ImageDataset data, int warmup, int steps, Compute base, Compute other) {
        int batch = s.batchSize();
        BatchRecipe recipe = BatchRecipe.of(s, false);
        double augment = TrainStepBench.augmentTime(data, recipe.augmentation(), recipe.collator(), batch, s.seed());
        double peak = TrainStepBench.gemmPeak(s.device().resolve(0));
        SslConfig[] cfgs = {s.ssl().withCompute(base), s.ssl().withCompute(other)};
        Samples[] samples = {new Samples(), new Samples()};
        double masked = 0;
        try (NDManager manager = NDManager.newBaseManager(s.device().resolve(0));
                SslMetaArch first = SslMetaArch.create(manager, cfgs[0], s.seed());
                SslMetaArch second = SslMetaArch.create(manager, cfgs[1], s.seed());
                BatchLoader loader = new BatchLoader(
                        data,
                        recipe.augmentation(),
                        recipe.collator(),
                        new EpochSampler(data.size(), s.seed()),
                        batch,
                        s.seed(),
                        s.data().loaderThreads(),
                        s.data().prefetch())) {
            SslMetaArch[] models = {first, second};
            for (SslMetaArch m : models) {
                m.setCropPacking(s.loop().cropPacking());
            }
            for (int i = 0; i < warmup + steps; i++) {
                CollatedBatch cb = loader.next();
                for (int j = 0; j < 2; j++) {
                    int which = (i + j) % 2; // alternate which precision goes first
                    boolean reset = TrainStepBench.resetPeakResident();
                    long t0 = System.nanoTime();
                    long c0 = processCpuNanos();
                    SslMetaArch.StepResult r;
                    try (NDManager sm = manager.newSubManager()) {
                        StepBatch b = StepBatch.of(sm, cb);
                        r = models[which].trainStep(i, b, s.schedules().at(i), StepRandom.forStep(s.seed(), i));
                    }
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    double cpu = (processCpuNanos() - c0) / 1e9;
                    if (i >= warmup) {
                        samples[which].add(seconds, cpu, r, reset ? TrainStepBench.peakResidentMiB() : Double.NaN);
                    }
                }
                if (i >= warmup) {
                    masked += cb.nMaskedPatches();
                }
            }
        }
        double gflop = FlopModel.step(
                                s.ssl(),
                                batch,
                                recipe.crops().globalCropsSize(),
                                recipe.crops().localCropsSize(),
                                masked / steps)
                        .total()
                / 1e9;
        String engine = Engine.getInstance().getEngineName() + " "
                + Engine.getInstance().getVersion();
        int threads = Runtime.getRuntime().availableProcessors();
        return new Result(
                samples[0].result(configName, cfgs[0], batch, steps, augment, gflop, peak, engine, threads),
                samples[1].result(configName, cfgs[1], batch, steps, augment, gflop, peak, engine, threads),
                TrainStepBench.median(samples[0].cpu),
                TrainStepBench.median(samples[1].cpu));
    }

    /** CPU time of the whole process so far (ns); -1 where the JVM does not say. */
    private static long processCpuNanos() {
        var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.OperatingSystemMXBean sun ? sun.getProcessCpuTime() : -1;
    }

    /** One model's per-step measurements. */
    private static final class Samples {
        final List<Double> total = new ArrayList<>();
        final List<Double> fb = new ArrayList<>();
        final List<Double> opt = new ArrayList<>();
        final List<Double> teacher = new ArrayList<>();
        final List<Double> student = new ArrayList<>();
        final List<Double> backward = new ArrayList<>();
        final List<Double> cpu = new ArrayList<>();
        double peakMiB = Double.NaN;

        void add(double seconds, double cpuSeconds, SslMetaArch.StepResult r, double peakResidentMiB) {
            total.add(seconds);
            cpu.add(cpuSeconds);
            fb.add(r.forwardBackwardSeconds());
            opt.add(r.optimizerSeconds());
            teacher.add(r.losses().teacherSeconds());
            student.add(r.losses().studentForwardSeconds());
            backward.add(r.losses().backwardSeconds());
            if (!Double.isNaN(peakResidentMiB)) {
                peakMiB = Double.isNaN(peakMiB) ? peakResidentMiB : Math.max(peakMiB, peakResidentMiB);
            }
        }

        TrainStepBench.Result result(
                String configName,
                SslConfig cfg,
                int batch,
                int steps,
                double augment,
                double gflop,
                double gemmPeak,
                String engine,
                int threads) {
            double step = TrainStepBench.median(total);
            return new TrainStepBench.Result(
                    configName,
                    cfg.compute().toString(),
                    batch,
                    steps,
                    batch / step,
                    step,
                    augment,
                    TrainStepBench.median(fb),
                    TrainStepBench.median(opt),
                    0.0,
                    TrainStepBench.median(teacher),
                    TrainStepBench.median(student),
                    TrainStepBench.median(backward),
                    gflop,
                    gflop / step,
                    gemmPeak,
                    gflop / step / gemmPeak,
                    engine,
                    threads,
                    peakMiB,
                    false); // the comparison runs the plain backward
        }
    }
}
