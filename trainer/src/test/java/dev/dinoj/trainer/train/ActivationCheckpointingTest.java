package dev.dinoj.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.model.ParamSet;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Activation checkpointing (every student block recomputed in the backward from its stored input, with the forward's
 * stochastic-depth draws) gives the float32 gradients and losses of the plain backward, bitwise: with per-sample drop
 * path (rate ≤ 0.1) and the batch-subset path (rate > 0.1), crops packed or in two passes, with the caller's
 * segmented backward (the sharded step's overlap) or without, and with a garbage collection before the backward.
 */
class ActivationCheckpointingTest {

    private static Map<String, float[]> gradients(ParamSet p) {
        Map<String, float[]> out = new LinkedHashMap<>();
        for (String name : p.names()) {
            try (NDArray g = p.get(name).getGradient()) {
                out.put(name, g.toFloatArray());
            }
        }
        return out;
    }

    /** Gradients and losses of one forward/backward; {@code finalised} collects the listener's calls. */
    private static Map<String, float[]> step(
            TrainSettings s, boolean checkpointing, boolean segmented, boolean gc, List<Integer> finalised)
            throws Exception {
        try (NDManager m = NDManager.newBaseManager();
                SslMetaArch model = SslMetaArch.create(m, s.ssl(), 5)) {
            model.setCropPacking(s.loop().cropPacking());
            model.setActivationCheckpointing(checkpointing);
            if (segmented) {
                model.setSegmentedBackward(
                        new SegmentedBackward(s.ssl().backbone().depth(), finalised::add));
            }
            if (gc) {
                model.setBeforeBackward(NativeMemoryLifetimeTest::collect);
            }
            StepBatch batch = TestBatches.first(s, m, new TestData(64, 20));
            model.student().zeroGradients();
            SslMetaArch.StepLosses losses =
                    model.forwardBackward(batch, s.schedules().at(0).teacherTemp(), StepRandom.forStep(s.seed(), 0));
            Map<String, float[]> g = gradients(model.student());
            g.put("<total loss>", new float[] {(float) losses.total()});
            for (Map.Entry<String, Double> e : losses.logged().entrySet()) {
                g.put("<" + e.getKey() + ">", new float[] {e.getValue().floatValue()});
            }
            return g;
        }
    }

    @ParameterizedTest(name = "drop path {0}, crop packing {1}, segmented {2}")
    @CsvSource({"0.05, true, false", "0.3, true, false", "0.3, false, false", "0.3, true, true", "0, false, true"})
    void recomputedBlocksGiveTheGradientsOfThePlainBackward(double dropPath, boolean packing, boolean segmented)
            throws Exception {
        TrainSettings s = TrainSettings.load(
                "fmnist-pico", List.of("model.drop-path-rate=" + dropPath, "train.crop-packing=" + packing));
        Map<String, float[]> plain = step(s, false, false, false, new ArrayList<>());
        List<Integer> finalised = new ArrayList<>();
        Map<String, float[]> recomputed = step(s, true, segmented, true, finalised);
        assertEquals(plain.keySet(), recomputed.keySet());
        int nonZero = 0;
        for (String name : plain.keySet()) {
            assertArrayEquals(plain.get(name), recomputed.get(name), name + ": checkpointed backward differs");
            for (float v : plain.get(name)) {
                nonZero += v != 0 ? 1 : 0;
            }
        }
        assertTrue(nonZero > 1000, "the gradients are not all zero: " + nonZero);
        int depth = s.ssl().backbone().depth();
        if (segmented) { // the overlap's listener still hears every segment, heads first, down to block 0
            List<Integer> expected = new ArrayList<>();
            for (int b = depth; b >= 0; b--) {
                expected.add(b);
            }
            assertEquals(expected, finalised);
        }
    }
}
