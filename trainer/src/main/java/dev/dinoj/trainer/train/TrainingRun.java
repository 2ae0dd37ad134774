package dev.dinoj.trainer.train;

import ai.djl.ndarray.NDManager;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.loader.BatchLoader;
import dev.dinoj.pipeline.loader.EpochSampler;
import dev.dinoj.pipeline.masking.CollatedBatch;
import dev.dinoj.trainer.checkpoint.Checkpoints;
import dev.dinoj.trainer.collective.ShutdownStop;
import dev.dinoj.trainer.config.ConfigError;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.schedule.Schedules;
import dev.dinoj.trainer.weights.BackboneFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A single-process DINOv2 pretraining run: the {@link TrainLoop} with the whole batch in this JVM
 * ({@link SslMetaArch#trainStep}) and the background batch loader. Writes the resolved config, {@code metrics.jsonl} (one line per step)
 * and checkpoints under the output directory; {@code resume} continues the same data stream from the newest
 * checkpoint, so an interrupted and resumed run reaches the same parameters as an uninterrupted one.
 */
public final class TrainingRun {

    private static final Logger log = LoggerFactory.getLogger(TrainingRun.class);

    private final TrainSettings settings;
    private final Path outDir;
    private final boolean resume;
    private final TrainLoop.Listener listener;
    private ImageDataset dataset;

    public TrainingRun(TrainSettings settings, Path outDir, boolean resume, TrainLoop.Listener listener) {
        this.settings = settings;
        this.outDir = outDir;
        this.resume = resume;
        this.listener = listener == null ? r -> {} : listener;
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

    /** Trains to the end, the time limit or a termination signal (which checkpoints the step reached first). */
    public TrainLoop.Result run() throws IOException {
        Files.createDirectories(outDir);
        Files.writeString(outDir.resolve("config.conf"), settings.render());
        ImageDataset data = dataset != null ? dataset : settings.openDataset();
        TrainLoop.requireOneBatch(data, settings.batchSize());
        try (ShutdownStop stop = new ShutdownStop(STOP_GRACE);
                NDManager manager = NDManager.newBaseManager(settings.device().resolve(0));
                SslMetaArch model = createModel(settings, manager, outDir, resume)) {
            model.setCropPacking(settings.loop().cropPacking());
            model.setActivationCheckpointing(settings.loop().activationCheckpointing());
            TrainLoop loop = new TrainLoop(
                    settings,
                    outDir,
                    new LocalStepper(model, manager),
                    (recipe, first, end, position) -> loader(data, recipe, position),
                    new TrainLoop.Reporter() {
                        @Override
                        public void info(String line) {
                            log.info(line);
                        }

                        @Override
                        public void step(StepReport report, String logLine) {
                            listener.onStep(report);
                            if (logLine != null) {
                                log.info(logLine);
                            }
                        }
                    },
                    true);
            return loop.run(stop);
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The batches of a phase from the background loader, its sampler at {@code position}. */
    private TrainLoop.BatchSource loader(ImageDataset data, BatchRecipe recipe, long position) {
        EpochSampler sampler = new EpochSampler(data.size(), settings.seed());
        sampler.seek(position);
        BatchLoader loader = new BatchLoader(
                data,
                recipe.augmentation(),
                recipe.collator(),
                sampler,
                settings.batchSize(),
                settings.seed(),
                settings.data().loaderThreads(),
                settings.data().prefetch());
        return new TrainLoop.BatchSource() {
            @Override
            public CollatedBatch next() {
                return loader.next();
            }

            @Override
            public long position() {
                return loader.position();
            }

            @Override
            public void close() {
                loader.close();
            }
        };
    }

    /** The single-process step: the whole batch in this JVM, checkpoints of the single-process format. */
    private final class LocalStepper implements TrainLoop.Stepper {

        private final SslMetaArch model;
        private final NDManager manager;
        private Path resumedFrom;

        LocalStepper(SslMetaArch model, NDManager manager) {
            this.model = model;
            this.manager = manager;
        }

        @Override
        public TrainLoop.Resumed resume(Path dir) {
            if (!resume) {
                return TrainLoop.Resumed.START;
            }
            Optional<Checkpoints.Loaded> loaded = Checkpoints.loadNewestVerified(dir, model, log::warn);
            if (loaded.isEmpty()) {
                log.info("--resume: no checkpoint in {}, starting from scratch", dir.resolve(Checkpoints.DIR));
                return TrainLoop.Resumed.START;
            }
            resumedFrom = loaded.get().dir();
            Checkpoints.State st = loaded.get().state();
            if (!st.config().equals(settings.render())) {
                log.warn(
                        "Resuming {} with a configuration that differs from the checkpoint's; the run will "
                                + "not match an uninterrupted one (compare {} with config.conf)",
                        resumedFrom,
                        resumedFrom.resolve("config.conf"));
            }
            if (model.gram() != null) {
                model.gram().initializeMissing(st.step(), model.ema());
            }
            log.info("Resuming from {} at step {} (sampler position {})", resumedFrom, st.step(), st.samplerPosition());
            return new TrainLoop.Resumed(st.step(), st.samplerPosition());
        }

        /** The checkpoint resumed from (not a newer one that did not verify); else the newest one, if any. */
        @Override
        public Path latestCheckpoint(Path dir) {
            return resume ? resumedFrom : Checkpoints.latest(dir).orElse(null);
        }

        @Override
        public TrainLoop.StepOutcome step(long step, CollatedBatch cb, Schedules.Values v) {
            try (NDManager stepManager = manager.newSubManager()) {
                StepBatch batch = StepBatch.of(stepManager, cb);
                SslMetaArch.StepResult res = model.trainStep(step, batch, v, StepRandom.forStep(settings.seed(), step));
                return new TrainLoop.StepOutcome(
                        res.losses().logged(), res.losses().total(), res.gradNorms(), "");
            }
        }

        @Override
        public Path checkpoint(Path dir, long steps, long samplerPosition) {
            return Checkpoints.save(
                    dir,
                    model,
                    new Checkpoints.State(
                            steps, samplerPosition, model.optimizer().stepCount(), settings.seed(), settings.render()),
                    settings.checkpoint().keepLast());
        }

        @Override
        public boolean[] agreeToStop(boolean timeUp, boolean signalled) {
            return new boolean[] {timeUp || signalled, signalled};
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
            throw new UncheckedIOException(e); // nothing is written without a run directory
        }
    }

    private static SslMetaArch newModel(TrainSettings settings, NDManager manager, Path outDir, boolean resume)
            throws IOException {
        SslMetaArch model;
        Path teacherSource = settings.distill().teacher();
        Path pretrained = settings.pretrainedWeights();
        if (teacherSource == null) {
            model = SslMetaArch.create(manager, settings.ssl(), settings.seed(), pretrained);
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
            log.info(
                    "Distilling from {}{}",
                    teacher.describe(),
                    teacher.randomHeads()
                            ? " — WARNING: the teacher has no trained heads; its targets are random projections of its features"
                            : "");
            model = SslMetaArch.distillation(manager, settings.ssl(), settings.seed(), teacher, pretrained);
        }
        if (pretrained != null) {
            log.info(
                    "The {} backbone starts from {}; the heads are fresh",
                    teacherSource == null ? "student's and the teacher's" : "student's",
                    describe(pretrained));
        }
        if (settings.gram() != null) {
            model.setGram(
                    new GramAnchor(manager, settings.gram(), settings.ssl().backbone()));
            log.info("Gram anchoring on: {}", settings.gram());
        }
        return model;
    }

    /** One line on a pretrained backbone file for the log (its path alone if it cannot be read again). */
    private static String describe(Path pretrained) {
        try {
            return BackboneFile.inspect(pretrained).describe();
        } catch (IOException | RuntimeException e) {
            return pretrained.toString();
        }
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
            throw new ConfigError("dinoj.distill.teacher = " + teacherSource
                    + ": its weights differ from those the run started with (" + record + ": " + before + ")");
        }
        return true;
    }
}
