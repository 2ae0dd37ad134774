package dev.dinoj.trainer.train;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.pipeline.augment.MultiCropAugmentation;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.loader.BatchLoader;
import dev.dinoj.pipeline.loader.EpochSampler;
import dev.dinoj.pipeline.masking.CollatedBatch;
import dev.dinoj.pipeline.masking.Collator;
import dev.dinoj.pipeline.masking.MaskingGenerator;
import dev.dinoj.trainer.checkpoint.Checkpoints;
import dev.dinoj.trainer.collective.ShutdownStop;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.schedule.Schedules;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A single-process DINOv2 pretraining run, in dinov2's train.py order: schedules → forward/backward → clip →
 * AdamW → EMA teacher → log → checkpoint. Writes the resolved config, {@code metrics.jsonl} (one line per step)
 * and checkpoints under the output directory; {@code resume} continues the same data stream from the newest
 * checkpoint, so an interrupted and resumed run reaches the same parameters as an uninterrupted one.
 */
public final class TrainingRun {

    private static final Logger log = LoggerFactory.getLogger(TrainingRun.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Receives progress; the CLI draws a progress bar with it. */
    public interface Listener {
        void onStep(StepReport report);
    }

    /** What happened in one step. */
    public record StepReport(long step, long totalSteps, Map<String, Double> losses, double totalLoss,
                             Schedules.Values schedule, Map<String, Double> gradNorms, double imagesPerSecond,
                             double dataWaitSeconds, double computeSeconds, int globalCropSize) {
    }

    /** The outcome of {@link #run()}. */
    public record Result(long startStep, long endStep, Path lastCheckpoint, List<StepReport> steps, double seconds) {
    }

    private final TrainSettings settings;
    private final Path outDir;
    private final boolean resume;
    private final Listener listener;
    private ImageDataset dataset;

    public TrainingRun(TrainSettings settings, Path outDir, boolean resume, Listener listener) {
        this.settings = settings;
        this.outDir = outDir;
        this.resume = resume;
        this.listener = listener == null ? r -> { } : listener;
    }

    /** The distillation teacher's SHA-256 and source, written into the run directory when the run starts. */
    public static final String TEACHER_RECORD = "distill-teacher.sha256";

    /** How long a termination signal waits for the step in flight and its checkpoint before the JVM exits anyway. */
    static final Duration STOP_GRACE = ShutdownStop.DEFAULT_GRACE;

    /** Uses an already opened dataset instead of {@code data.dataset} (tests, embedded use). */
    public TrainingRun withDataset(ImageDataset ds) {
        this.dataset = ds;
        return this;
    }

    public Result run() throws IOException {
        Files.createDirectories(outDir);
        Files.writeString(outDir.resolve("config.conf"), settings.render());
        ImageDataset data = dataset != null ? dataset : settings.openDataset();
        int batchSize = settings.batchSize();
        if (data.size() < batchSize) {
            throw new IllegalArgumentException(data.describe() + " has " + data.size()
                    + " images, fewer than dinoj.train.batch-size = " + batchSize);
        }
        long totalSteps = settings.totalSteps();
        long deadline = settings.loop().maxMinutes() > 0 ? System.nanoTime() + (long) (settings.loop().maxMinutes() * 60e9) : Long.MAX_VALUE;
        long t0 = System.nanoTime();
        List<StepReport> reports = new ArrayList<>();
        try (ShutdownStop stop = new ShutdownStop(STOP_GRACE);
             NDManager manager = NDManager.newBaseManager();
             SslMetaArch model = createModel(settings, manager, outDir, resume)) {
            model.setCropPacking(settings.loop().cropPacking());
            long step = 0;
            long position = 0;
            if (resume) {
                var latest = Checkpoints.latest(outDir);
                if (latest.isPresent()) {
                    Checkpoints.State st = Checkpoints.load(latest.get(), model);
                    if (!st.config().equals(settings.render())) {
                        log.warn("Resuming {} with a configuration that differs from the checkpoint's; the run will "
                                + "not match an uninterrupted one (compare {} with config.conf)", latest.get(),
                                latest.get().resolve("config.conf"));
                    }
                    step = st.step();
                    position = st.samplerPosition();
                    if (model.gram() != null) {
                        model.gram().initializeMissing(step, model.ema());
                    }
                    log.info("Resuming from {} at step {} (sampler position {})", latest.get(), step, position);
                } else {
                    log.info("--resume: no checkpoint in {}, starting from scratch", outDir.resolve(Checkpoints.DIR));
                }
            }
            long startStep = step;
            Path last = Checkpoints.latest(outDir).orElse(null);
            try (BufferedWriter metrics = openMetrics(outDir, step)) {
                boolean timeUp = false;
                while (step < totalSteps && !timeUp) {
                    long hr = settings.crops().highResStartStep();
                    boolean highRes = hr > 0 && step >= hr;
                    long phaseEnd = highRes || hr <= 0 ? totalSteps : Math.min(totalSteps, hr);
                    var crops = settings.crops().multiCrop(highRes);
                    EpochSampler sampler = new EpochSampler(data.size(), settings.seed());
                    sampler.seek(position);
                    Collator collator = new Collator(settings.masks().ratioMinMax()[0], settings.masks().ratioMinMax()[1],
                            settings.masks().sampleProbability(),
                            MaskingGenerator.forGlobalCrops(crops.globalCropsSize(), settings.ssl().backbone().patchSize()));
                    if (highRes) {
                        log.info("High-resolution phase from step {}: global crops {} px, local crops {} px", step,
                                crops.globalCropsSize(), crops.localCropsSize());
                    }
                    try (BatchLoader loader = new BatchLoader(data, new MultiCropAugmentation(crops), collator, sampler,
                            batchSize, settings.seed(), settings.data().loaderThreads(), settings.data().prefetch())) {
                        while (step < phaseEnd) {
                            long s0 = System.nanoTime();
                            CollatedBatch cb = loader.next();
                            long s1 = System.nanoTime();
                            Schedules.Values v = settings.schedules().at(step);
                            SslMetaArch.StepResult res;
                            try (NDManager stepManager = manager.newSubManager()) {
                                StepBatch batch = StepBatch.fromHost(stepManager, cb.batchSize(), cb.globalSize(),
                                        cb.globalCrops(), cb.nLocal(), cb.localSize(), cb.localCrops(), cb.masks(),
                                        cb.maskIndices(), cb.masksWeight(), cb.upperbound());
                                res = model.trainStep(step, batch, v, StepRandom.forStep(settings.seed(), step));
                            }
                            long s2 = System.nanoTime();
                            step++;
                            position = loader.position();
                            StepReport r = new StepReport(step, totalSteps, res.losses().logged(), res.losses().total(), v,
                                    res.gradNorms(), batchSize / ((s2 - s0) / 1e9), (s1 - s0) / 1e9, (s2 - s1) / 1e9,
                                    cb.globalSize());
                            reports.add(r);
                            writeMetrics(metrics, r);
                            listener.onStep(r);
                            if (step % settings.loop().logEvery() == 0 || step == totalSteps) {
                                log.info(format(r));
                            }
                            boolean signalled = stop.requested();
                            timeUp = System.nanoTime() > deadline || signalled;
                            if (step % settings.checkpoint().everySteps() == 0 || step == totalSteps || timeUp) {
                                metrics.flush();
                                last = Checkpoints.save(outDir, model, new Checkpoints.State(step, position,
                                        model.optimizer().stepCount(), settings.seed(), settings.render()), settings.checkpoint().keepLast());
                            }
                            if (timeUp) {
                                if (signalled) {
                                    log.info("Stopped on a termination signal after step {}; checkpoint {} written "
                                            + "(--resume continues from it)", step, last.getFileName());
                                } else {
                                    log.info("dinoj.train.max-minutes reached after step {}", step);
                                }
                                break;
                            }
                        }
                    }
                }
            }
            return new Result(startStep, step, last, reports, (System.nanoTime() - t0) / 1e9);
        }
    }

    /**
     * The model of this run: DINOv2 pretraining, or distillation from {@code distill.teacher} (whose SHA-256 is
     * recorded in {@code RUN/distill-teacher.sha256} and must match on resume); with Gram anchoring when configured.
     * Shared by every way of training (one process, rank 0 of {@code --ranks N}).
     */
    public static SslMetaArch createModel(TrainSettings settings, NDManager manager, Path outDir, boolean resume)
            throws IOException {
        return newModel(settings, manager, outDir, resume);
    }

    /**
     * The model of a run without the teacher record (the other ranks of a sharded run, cluster workers: a sharded
     * checkpoint records the distillation teacher's SHA-256 itself and checks it on load).
     */
    public static SslMetaArch createModel(TrainSettings settings, NDManager manager) {
        try {
            return newModel(settings, manager, null, false);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);                 // nothing is written without a run directory
        }
    }

    private static SslMetaArch newModel(TrainSettings settings, NDManager manager, Path outDir, boolean resume)
            throws IOException {
        SslMetaArch model;
        Path teacherSource = settings.distill().teacher();
        if (teacherSource == null) {
            model = SslMetaArch.create(manager, settings.ssl(), settings.seed());
        } else {
            DistillTeacher teacher = DistillTeacher.load(teacherSource, settings.ssl(), settings.distill(), manager);
            String line = teacher.sha256() + "  " + teacher.source();
            if (outDir == null) {
                log.debug("Distillation teacher {} (not recorded here)", line);
            } else {
                boolean recorded;
                try {
                    recorded = resume && checkTeacherRecord(teacherSource, teacher.sha256(), outDir);
                } catch (RuntimeException e) {
                    teacher.params().close();
                    throw e;
                }
                if (!recorded) {
                    Files.createDirectories(outDir);
                    Files.writeString(outDir.resolve(TEACHER_RECORD), line + "\n");
                }
            }
            log.info("Distilling from {}{}", teacher.describe(), teacher.randomHeads()
                    ? " — WARNING: the teacher has no trained heads; its targets are random projections of its features" : "");
            model = SslMetaArch.distillation(manager, settings.ssl(), settings.seed(), teacher);
        }
        if (settings.gram() != null) {
            model.setGram(new GramAnchor(manager, settings.gram(), settings.ssl().backbone()));
            log.info("Gram anchoring on: {}", settings.gram());
        }
        return model;
    }

    /**
     * Resuming a distillation run: stops with a {@code dinoj.distill.teacher} error when {@code sha256} is not the
     * SHA-256 that {@code RUN/distill-teacher.sha256} recorded when the run started (nothing recorded: nothing to
     * check).
     *
     * @return whether a record was there (and matched)
     */
    public static boolean checkTeacherRecord(Path teacherSource, String sha256, Path outDir) throws IOException {
        Path record = outDir.resolve(TEACHER_RECORD);
        if (!Files.isRegularFile(record)) {
            return false;
        }
        String before = Files.readString(record).trim();
        if (!before.split("\\s+")[0].equals(sha256)) {
            throw new dev.dinoj.trainer.config.ConfigError("dinoj.distill.teacher = " + teacherSource
                    + ": its weights differ from those the run started with (" + record + ": " + before + ")");
        }
        return true;
    }

    /**
     * {@code outDir/metrics.jsonl} opened for appending, with lines of steps after the resumed step dropped (they will
     * be recomputed). Shared with the sharded run (rank 0 writes the metrics there).
     */
    public static BufferedWriter openMetrics(Path outDir, long fromStep) throws IOException {
        Path f = outDir.resolve("metrics.jsonl");
        if (Files.exists(f)) {
            List<String> keep = new ArrayList<>();
            for (String line : Files.readAllLines(f)) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    if (JSON.readTree(line).get("step").asLong() <= fromStep) {
                        keep.add(line);
                    }
                } catch (IOException | NullPointerException e) {
                    // a line cut short by a crash (kill -9): its step is recomputed after the resume
                    log.warn("{}: dropping an incomplete line left by an interrupted run", f);
                }
            }
            Files.write(f, keep);
        }
        return Files.newBufferedWriter(f, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    /** One line of {@code metrics.jsonl}. */
    public static void writeMetrics(BufferedWriter w, StepReport r) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("step", r.step());
        r.losses().forEach(o::put);
        o.put("total_loss", r.totalLoss());
        o.put("lr", r.schedule().lr());
        o.put("wd", r.schedule().wd());
        o.put("momentum", r.schedule().momentum());
        o.put("teacher_temp", r.schedule().teacherTemp());
        o.put("last_layer_lr", r.schedule().lastLayerLr());
        r.gradNorms().forEach((k, v) -> o.put("grad_norm_" + k, v));
        o.put("images_per_s", r.imagesPerSecond());
        o.put("data_wait_s", r.dataWaitSeconds());
        o.put("compute_s", r.computeSeconds());
        o.put("global_crop_size", r.globalCropSize());
        w.write(JSON.writeValueAsString(o));
        w.newLine();
        w.flush();                                             // whole lines only, visible while training
    }

    /** One human-readable log line. */
    public static String format(StepReport r) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "step %d/%d  loss %.4f (", r.step(), r.totalSteps(), r.totalLoss()));
        r.losses().forEach((k, v) -> sb.append(String.format(Locale.ROOT, "%s %.4f, ",
                k.replace("_crops_loss", "").replace("_loss", ""), v)));
        sb.setLength(sb.length() - 2);
        Schedules.Values v = r.schedule();
        sb.append(String.format(Locale.ROOT, ")  lr %.2e  wd %.4f  mom %.5f  t-temp %.4f  %.1f img/s", v.lr(), v.wd(),
                v.momentum(), v.teacherTemp(), r.imagesPerSecond()));
        return sb.toString();
    }
}
