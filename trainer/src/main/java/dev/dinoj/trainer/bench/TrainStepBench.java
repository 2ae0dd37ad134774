package dev.dinoj.trainer.bench;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.pipeline.augment.MultiCropAugmentation;
import dev.dinoj.pipeline.augment.MultiCropSample;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.loader.BatchLoader;
import dev.dinoj.pipeline.loader.EpochSampler;
import dev.dinoj.pipeline.masking.CollatedBatch;
import dev.dinoj.pipeline.masking.Collator;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.train.BatchRecipe;
import dev.dinoj.trainer.train.GramAnchor;
import dev.dinoj.trainer.train.SslMetaArch;
import dev.dinoj.trainer.train.StepBatch;
import dev.dinoj.trainer.train.StepRandom;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Measures the training step of a configuration: images/s end to end (augmentation in background threads, as in
 * training), the time split augment / forward-backward / optimizer, and the model FLOP utilisation against the
 * float32 GEMM peak measured on the same machine in the same run.
 */
public final class TrainStepBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Medians over the measured steps. */
    public record Result(
            String config,
            String compute,
            int batch,
            int steps,
            double imagesPerSecond,
            double stepSeconds,
            double augmentSecondsPerBatch,
            double forwardBackwardSeconds,
            double optimizerSeconds,
            double dataWaitSeconds,
            double teacherSeconds,
            double studentForwardSeconds,
            double backwardSeconds,
            double gflopPerStep,
            double achievedGflops,
            double gemmPeakGflops,
            double utilisation,
            String engine,
            int threads,
            double peakResidentMiB,
            boolean activationCheckpointing) {

        public String table() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(
                    Locale.ROOT,
                    "train-step benchmark: %s, %s, batch %d, %d measured steps, %s, %d threads%n",
                    config,
                    compute,
                    batch,
                    steps,
                    engine,
                    threads));
            row(sb, "images/s", String.format(Locale.ROOT, "%.2f", imagesPerSecond));
            row(sb, "step time (s)", String.format(Locale.ROOT, "%.3f", stepSeconds));
            row(sb, "  forward+backward (s)", String.format(Locale.ROOT, "%.3f", forwardBackwardSeconds));
            row(sb, "    teacher forward + centering (s)", String.format(Locale.ROOT, "%.3f", teacherSeconds));
            row(
                    sb,
                    "    student forward + heads + losses (s)",
                    String.format(Locale.ROOT, "%.3f", studentForwardSeconds));
            row(sb, "    backward (s)", String.format(Locale.ROOT, "%.3f", backwardSeconds));
            row(sb, "  optimizer: clip+AdamW+EMA (s)", String.format(Locale.ROOT, "%.3f", optimizerSeconds));
            row(sb, "  waiting for data (s)", String.format(Locale.ROOT, "%.3f", dataWaitSeconds));
            row(sb, "augment+collate, 1 thread (s/batch)", String.format(Locale.ROOT, "%.3f", augmentSecondsPerBatch));
            row(sb, "model work (GFLOP/step)", String.format(Locale.ROOT, "%.1f", gflopPerStep));
            row(sb, "achieved (GFLOP/s)", String.format(Locale.ROOT, "%.1f", achievedGflops));
            row(sb, "GEMM peak, same run (GFLOP/s)", String.format(Locale.ROOT, "%.1f", gemmPeakGflops));
            row(sb, "FLOP utilisation", String.format(Locale.ROOT, "%.1f %%", 100 * utilisation));
            row(sb, "peak resident memory, steps (MiB)", String.format(Locale.ROOT, "%.0f", peakResidentMiB));
            row(sb, "activation checkpointing", activationCheckpointing ? "on" : "off");
            return sb.toString();
        }

        private static void row(StringBuilder sb, String k, String v) {
            sb.append(String.format(Locale.ROOT, "  %-38s %12s%n", k, v));
        }

        /** One JSON line (times in seconds, 4 decimals; rates 2 or 3 decimals; null when not finite). */
        public String json() {
            ObjectNode o = JSON.createObjectNode();
            o.put("bench", "train-step");
            o.put("config", config);
            o.put("compute", compute);
            o.put("batch", batch);
            o.put("steps", steps);
            o.put("images_per_s", fixed(imagesPerSecond, 3));
            o.put("step_s", fixed(stepSeconds, 4));
            o.put("forward_backward_s", fixed(forwardBackwardSeconds, 4));
            o.put("optimizer_s", fixed(optimizerSeconds, 4));
            o.put("data_wait_s", fixed(dataWaitSeconds, 4));
            o.put("teacher_s", fixed(teacherSeconds, 4));
            o.put("student_forward_s", fixed(studentForwardSeconds, 4));
            o.put("backward_s", fixed(backwardSeconds, 4));
            o.put("augment_s_per_batch", fixed(augmentSecondsPerBatch, 4));
            o.put("gflop_per_step", fixed(gflopPerStep, 2));
            o.put("achieved_gflops", fixed(achievedGflops, 2));
            o.put("gemm_peak_gflops", fixed(gemmPeakGflops, 2));
            o.put("flop_utilisation", fixed(utilisation, 4));
            o.put("engine", engine);
            o.put("threads", threads);
            o.put("peak_rss_mib", fixed(peakResidentMiB, 0));
            o.put("activation_checkpointing", activationCheckpointing);
            return o.toString();
        }

        private static BigDecimal fixed(double v, int decimals) {
            return Double.isFinite(v) ? BigDecimal.valueOf(v).setScale(decimals, RoundingMode.HALF_UP) : null;
        }
    }

    private TrainStepBench() {}

    public static Result run(String configName, TrainSettings s, ImageDataset data, int warmup, int steps) {
        int batch = s.batchSize();
        BatchRecipe recipe = BatchRecipe.of(s, false);
        var crops = recipe.crops();
        Collator collator = recipe.collator();
        MultiCropAugmentation aug = recipe.augmentation();
        double augment = augmentTime(data, aug, collator, batch, s.seed());
        Device device = s.device().resolve(0);
        double peak = gemmPeak(device);
        List<Double> total = new ArrayList<>();
        List<Double> fb = new ArrayList<>();
        List<Double> opt = new ArrayList<>();
        List<Double> wait = new ArrayList<>();
        List<Double> teacher = new ArrayList<>();
        List<Double> studentFwd = new ArrayList<>();
        List<Double> backward = new ArrayList<>();
        double masked = 0;
        double stepPeakMiB;
        try (NDManager manager = NDManager.newBaseManager(device);
                SslMetaArch model = SslMetaArch.create(manager, s.ssl(), s.seed());
                BatchLoader loader = new BatchLoader(
                        data,
                        aug,
                        collator,
                        new EpochSampler(data.size(), s.seed()),
                        batch,
                        s.seed(),
                        s.data().loaderThreads(),
                        s.data().prefetch())) {
            model.setCropPacking(s.loop().cropPacking());
            model.setActivationCheckpointing(s.loop().activationCheckpointing());
            if (s.gram() != null) { // --set gram.use-loss=true: its cost
                model.setGram(new GramAnchor(manager, s.gram(), s.ssl().backbone()));
            }
            boolean reset = resetPeakResident(); // the peak of the steps, not of the start-up
            for (int i = 0; i < warmup + steps; i++) {
                long t0 = System.nanoTime();
                CollatedBatch cb = loader.next();
                long t1 = System.nanoTime();
                SslMetaArch.StepResult r;
                try (NDManager sm = manager.newSubManager()) {
                    StepBatch b = StepBatch.of(sm, cb);
                    r = model.trainStep(i, b, s.schedules().at(i), StepRandom.forStep(s.seed(), i));
                }
                long t2 = System.nanoTime();
                if (i >= warmup) {
                    total.add((t2 - t0) / 1e9);
                    wait.add((t1 - t0) / 1e9);
                    fb.add(r.forwardBackwardSeconds());
                    opt.add(r.optimizerSeconds());
                    teacher.add(r.losses().teacherSeconds());
                    studentFwd.add(r.losses().studentForwardSeconds());
                    backward.add(r.losses().backwardSeconds());
                    masked += cb.nMaskedPatches();
                }
            }
            stepPeakMiB = reset ? peakResidentMiB() : Double.NaN;
        }
        double step = median(total);
        double gflop = FlopModel.step(s.ssl(), batch, crops.globalCropsSize(), crops.localCropsSize(), masked / steps)
                        .total()
                / 1e9;
        return new Result(
                configName,
                s.ssl().compute().toString(),
                batch,
                steps,
                batch / step,
                step,
                augment,
                median(fb),
                median(opt),
                median(wait),
                median(teacher),
                median(studentFwd),
                median(backward),
                gflop,
                gflop / step,
                peak,
                gflop / step / peak,
                Engine.getInstance().getEngineName() + " "
                        + Engine.getInstance().getVersion(),
                Runtime.getRuntime().availableProcessors(),
                stepPeakMiB,
                s.loop().activationCheckpointing());
    }

    /**
     * Resets the process's peak resident set ({@code VmHWM}) to its current resident set (Linux:
     * {@code echo 5 > /proc/self/clear_refs}), so that {@link #peakResidentMiB} reports the peak from here on.
     *
     * @return false where that is not possible (then the peak would include everything before: not reported)
     */
    public static boolean resetPeakResident() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * The process's peak resident set ({@code VmHWM}: Java heap, DJL/PyTorch native memory and everything else), in
     * MiB; NaN where {@code /proc/self/status} does not exist.
     */
    public static double peakResidentMiB() {
        return procStatusBytes("VmHWM") / (1024.0 * 1024.0);
    }

    /** A memory line of {@code /proc/self/status} ({@code VmRSS}, {@code VmHWM}, …) in bytes; NaN where there is none. */
    public static double procStatusBytes(String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }

    /** Seconds to augment and collate one batch on one thread (median of 3). */
    static double augmentTime(ImageDataset data, MultiCropAugmentation aug, Collator collator, int batch, long seed) {
        List<Double> t = new ArrayList<>();
        for (int rep = 0; rep < 3; rep++) {
            long t0 = System.nanoTime();
            List<MultiCropSample> samples = new ArrayList<>();
            SplittableRandom rng = new SplittableRandom(seed + rep);
            for (int i = 0; i < batch; i++) {
                samples.add(aug.apply(data.image((rep * batch + i) % data.size()), rng));
            }
            collator.collate(samples, rng);
            t.add((System.nanoTime() - t0) / 1e9);
        }
        return median(t);
    }

    /** Best float32 GEMM throughput of 2048³ products on this engine and {@code device}, GFLOP/s. */
    public static double gemmPeak(Device device) {
        int n = 2048;
        double best = 0;
        try (NDManager m = NDManager.newBaseManager(device)) {
            NDArray a = m.randomUniform(-1, 1, new Shape(n, n));
            NDArray b = m.randomUniform(-1, 1, new Shape(n, n));
            for (int i = 0; i < 6; i++) {
                long t0 = System.nanoTime();
                try (NDArray c = a.matMul(b)) {
                    c.getFloat(0, 0); // forces completion on async devices
                }
                double s = (System.nanoTime() - t0) / 1e9;
                best = Math.max(best, 2.0 * n * n * n / s / 1e9);
            }
        }
        return best;
    }

    static double median(List<Double> xs) {
        double[] a = xs.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(a);
        return a.length == 0
                ? Double.NaN
                : a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
    }

    /** The JSON line as a map (for callers that merge results). */
    public static Map<String, Object> asMap(Result r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("images_per_s", r.imagesPerSecond());
        m.put("flop_utilisation", r.utilisation());
        return m;
    }
}
