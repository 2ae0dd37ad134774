package dev.dinoj.trainer.collective.sharded;

import ai.djl.ndarray.NDManager;
import dev.dinoj.pipeline.augment.MultiCropAugmentation;
import dev.dinoj.pipeline.masking.CollatedBatch;
import dev.dinoj.pipeline.masking.Collator;
import dev.dinoj.pipeline.masking.MaskingGenerator;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.model.ParamSet;
import dev.dinoj.trainer.train.SslMetaArch;
import dev.dinoj.trainer.train.StepBatch;
import dev.dinoj.trainer.train.StepRandom;
import dev.dinoj.trainer.train.TestData;

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

    private ShardedFixture() {
    }

    static TrainSettings settings(String... extra) {
        List<String> sets = new ArrayList<>(List.of("train.batch-size=" + GLOBAL_BATCH, "dino.koleo-loss-weight=0",
                "data.loader-threads=1"));
        sets.addAll(List.of(extra));
        return TrainSettings.load("fmnist-pico", sets);
    }

    static RankBatches batches(TrainSettings s, int worldSize) {
        var crops = s.multiCrop(false);
        Collator collator = new Collator(s.maskRatioMinMax()[0], s.maskRatioMinMax()[1], s.maskSampleProbability(),
                MaskingGenerator.forGlobalCrops(crops.globalCropsSize(), s.ssl().backbone().patchSize()));
        return new RankBatches(new TestData(64, 20), new MultiCropAugmentation(crops), collator, s.batchSize(),
                worldSize, s.seed());
    }

    /** Result of a run: student and teacher parameters and the total loss of every step. */
    record Run(Map<String, NpyArray> student, Map<String, NpyArray> teacher, List<Double> losses) {
    }

    /** One worker training on the concatenation of the {@code worldSize} rank batches of every step. */
    static Run reference(TrainSettings s, int worldSize, int steps) {
        RankBatches rb = batches(s, worldSize);
        List<Double> losses = new ArrayList<>();
        try (NDManager manager = NDManager.newBaseManager();
             SslMetaArch model = SslMetaArch.create(manager, s.ssl(), s.seed())) {
            for (int step = 0; step < steps; step++) {
                List<CollatedBatch> parts = new ArrayList<>();
                for (int r = 0; r < worldSize; r++) {
                    parts.add(rb.batch(step, r));
                }
                try (NDManager m = manager.newSubManager()) {
                    StepBatch b = RankBatches.toDevice(m, RankBatches.concat(parts));
                    losses.add(model.trainStep(step, b, s.schedules().at(step), StepRandom.forStep(s.seed(), step))
                            .losses().total());
                }
            }
            return new Run(model.student().toHost(), model.teacher().toHost(), losses);
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
