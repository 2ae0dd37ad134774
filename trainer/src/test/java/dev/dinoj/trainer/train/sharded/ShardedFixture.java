package dev.dinoj.trainer.train.sharded;

import ai.djl.ndarray.NDManager;
import dev.dinoj.pipeline.masking.CollatedBatch;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.model.ParamSet;
import dev.dinoj.trainer.train.BatchRecipe;
import dev.dinoj.trainer.train.SslMetaArch;
import dev.dinoj.trainer.train.StepBatch;
import dev.dinoj.trainer.train.StepRandom;
import dev.dinoj.trainer.train.TestData;
import dev.dinoj.trainer.train.TrainingRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The equivalence configuration: the pico preset with a global batch of 6 and KoLeo off. dinov2 computes KoLeo per
 * rank over the rank's own images (nearest neighbours within the rank), so with KoLeo on N ranks and one worker
 * optimise different objectives by design; every other term is a mean over equally sized rank batches or uses
 * all-reduced statistics (Sinkhorn-Knopp, centers), so it must match.
 */
final class ShardedFixture {

    static final int GLOBAL_BATCH = 6;

    private ShardedFixture() {}

    static TrainSettings settings(String... extra) {
        List<String> sets = new ArrayList<>(
                List.of("train.batch-size=" + GLOBAL_BATCH, "dino.koleo-loss-weight=0", "data.loader-threads=1"));
        sets.addAll(List.of(extra));
        return TrainSettings.load("fmnist-pico", sets);
    }

    /** Gram anchoring from a snapshot before step 1, refreshed after steps 1 and 3, weighted to matter. */
    static final List<String> GRAM = List.of(
            "gram.use-loss=true", "gram.it-load-ema-teacher=1", "gram.update-frequency=2", "gram.loss-weight=20");

    /** The file a {@code -distill} mode's teacher is read from (written by the test before the ranks start). */
    static Path teacherFile(Path out) {
        return out.resolve("distill-teacher.safetensors");
    }

    /** Distillation of the pico student from {@link #teacherFile} (its recipe: no stochastic depth). */
    static List<String> distill(Path out) {
        return List.of(
                "model.drop-path-rate=0",
                "distill.teacher=\"" + teacherFile(out).toAbsolutePath() + "\"");
    }

    /**
     * A frozen teacher for the distillation modes: the pico architecture at another seed, trained {@code steps}
     * single-process steps so its heads give non-uniform targets, saved with prefixed names.
     */
    static void writeTeacher(Path out, int steps) throws java.io.IOException {
        TrainSettings s = settings("train.seed=7");
        try (NDManager manager = NDManager.newBaseManager();
                SslMetaArch model = SslMetaArch.create(manager, s.ssl(), s.seed())) {
            RankBatches rb = batches(s, 1);
            for (int step = 0; step < steps; step++) {
                try (NDManager m = manager.newSubManager()) {
                    model.trainStep(
                            step,
                            StepBatch.of(m, rb.batch(step, 0)),
                            s.schedules().at(step),
                            StepRandom.forStep(s.seed(), step));
                }
            }
            dev.dinoj.trainer.io.Safetensors.write(
                    teacherFile(out), model.teacher().toHost(), java.util.Map.of());
        }
    }

    /** The settings of a rank mode: {@code …-gram} adds {@link #GRAM}, {@code …-distill} adds {@link #distill}. */
    static TrainSettings settings(String mode, Path out) {
        List<String> extra = new ArrayList<>();
        if (mode.endsWith("-gram")) {
            extra.addAll(GRAM);
        } else if (mode.endsWith("-distill")) {
            extra.addAll(distill(out));
        } else if (mode.endsWith("-ckpt")) {
            extra.add("train.activation-checkpointing=true");
        }
        return settings(extra.toArray(new String[0]));
    }

    static RankBatches batches(TrainSettings s, int worldSize) {
        BatchRecipe recipe = BatchRecipe.of(s, false);
        return new RankBatches(
                new TestData(64, 20), recipe.augmentation(), recipe.collator(), s.batchSize(), worldSize, s.seed());
    }

    /**
     * Result of a run: student and EMA parameters (the teacher; in distillation the spare EMA), the total loss of
     * every step and the logged losses of every step.
     */
    record Run(
            Map<String, NpyArray> student,
            Map<String, NpyArray> teacher,
            List<Double> losses,
            List<Map<String, Double>> logged) {}

    /** One worker training on the concatenation of the {@code worldSize} rank batches of every step. */
    static Run reference(TrainSettings s, int worldSize, int steps) {
        RankBatches rb = batches(s, worldSize);
        List<Double> losses = new ArrayList<>();
        List<Map<String, Double>> logged = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager();
                SslMetaArch model = TrainingRun.createModel(s, manager)) {
            for (int step = 0; step < steps; step++) {
                List<CollatedBatch> parts = new ArrayList<>();
                for (int r = 0; r < worldSize; r++) {
                    parts.add(rb.batch(step, r));
                }
                try (NDManager m = manager.newSubManager()) {
                    StepBatch b = StepBatch.of(m, RankBatches.concat(parts));
                    SslMetaArch.StepLosses l = model.trainStep(
                                    step, b, s.schedules().at(step), StepRandom.forStep(s.seed(), step))
                            .losses();
                    losses.add(l.total());
                    logged.add(l.logged());
                }
            }
            return new Run(model.student().toHost(), model.ema().toHost(), losses, logged);
        }
    }

    /**
     * Largest per-tensor relative L2 difference ‖a − b‖ / ‖b‖ over all parameters (and the worst name).
     *
     * <p>The key third of every {@code attn.qkv.bias} is left out: its gradient is exactly zero (adding q·b_k to a
     * whole row of attention logits does not change the softmax), so what it receives is float noise that Adam
     * normalises into updates of ~1e-7; no two implementations (not even one worker with another reduction order)
     * agree on it. {@link #keyBiasMaxAbs} bounds it in absolute terms instead.
     */
    static Map.Entry<String, Double> worstRelative(Map<String, NpyArray> a, Map<String, NpyArray> b) {
        String worst = null;
        double max = -1;
        for (Map.Entry<String, NpyArray> e : b.entrySet()) {
            float[] x = a.get(e.getKey()).asFloats();
            float[] y = e.getValue().asFloats();
            int third = e.getKey().endsWith("attn.qkv.bias") ? y.length / 3 : -1;
            double d = 0;
            double n = 0;
            for (int i = 0; i < y.length; i++) {
                if (third > 0 && i >= third && i < 2 * third) {
                    continue;
                }
                d += (double) (x[i] - y[i]) * (x[i] - y[i]);
                n += (double) y[i] * y[i];
            }
            double rel = n == 0 ? Math.sqrt(d) : Math.sqrt(d / n);
            if (rel > max) {
                max = rel;
                worst = e.getKey();
            }
        }
        return Map.entry(worst, max);
    }

    /** Largest |a − b| over the key thirds of the {@code attn.qkv.bias} parameters (see {@link #worstRelative}). */
    static double keyBiasMaxAbs(Map<String, NpyArray> a, Map<String, NpyArray> b) {
        double max = 0;
        for (Map.Entry<String, NpyArray> e : b.entrySet()) {
            if (e.getKey().endsWith("attn.qkv.bias")) {
                float[] x = a.get(e.getKey()).asFloats();
                float[] y = e.getValue().asFloats();
                for (int i = y.length / 3; i < 2 * y.length / 3; i++) {
                    max = Math.max(max, Math.abs(x[i] - y[i]));
                }
            }
        }
        return max;
    }

    static LinkedHashMap<String, NpyArray> host(ParamSet p) {
        return p.toHost();
    }
}
