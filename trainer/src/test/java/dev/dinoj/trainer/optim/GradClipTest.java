package dev.dinoj.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDManager;
import dev.dinoj.trainer.model.ParamSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Per-submodule gradient clipping ({@code clip_grad_norm_} on backbone, dino_head, ibot_head separately). */
class GradClipTest {

    private static final float[] GA = {3f, 0f, 0f, 4f}; // ‖·‖² = 25
    private static final float[] GB = {12f, 0f, 0f}; // ‖·‖² = 144 → backbone norm 13
    private static final float[] GC = {0.3f, 0.4f}; // dino_head norm 0.5
    private static final float[] GD = {2f, -2f, 1f}; // ibot_head norm 3

    private static ParamSet params(NDManager m) {
        ParamSet ps = new ParamSet(m);
        ps.put("backbone.a", new float[4], 2, 2);
        ps.put("backbone.b", new float[3], 3);
        ps.put("dino_head.c", new float[2], 2);
        ps.put("ibot_head.d", new float[3], 3);
        ps.attachGradients();
        Map<String, float[]> g = new LinkedHashMap<>();
        g.put("backbone.a", GA);
        g.put("backbone.b", GB);
        g.put("dino_head.c", GC);
        g.put("ibot_head.d", GD);
        AdamWTest.setGradients(ps, g);
        return ps;
    }

    private static List<ParamGroup> groups() {
        return List.of(
                new ParamGroup("backbone.a", "backbone", 1, 1, false),
                new ParamGroup("backbone.b", "backbone", 1, 1, false),
                new ParamGroup("dino_head.c", "dino_head", 1, 1, false),
                new ParamGroup("ibot_head.d", "ibot_head", 1, 1, false));
    }

    @Test
    void normsAreTheL2NormOfEachSubmodule() {
        try (NDManager m = NDManager.newBaseManager();
                ParamSet ps = params(m)) {
            Map<String, Double> n = GradClip.norms(ps, groups());
            assertEquals(3, n.size());
            assertEquals(13.0, n.get("backbone"), 1e-5);
            assertEquals(0.5, n.get("dino_head"), 1e-6);
            assertEquals(3.0, n.get("ibot_head"), 1e-6);
        }
    }

    @Test
    void clipScalesOnlySubmodulesAboveTheMaximum() {
        try (NDManager m = NDManager.newBaseManager();
                ParamSet ps = params(m)) {
            Map<String, Double> n = GradClip.norms(ps, groups());
            GradClip.clip(ps, groups(), n, 1.0);
            float coef = (float) (1.0 / (13.0 + 1e-6));
            assertArrayEquals(
                    new float[] {3 * coef, 0, 0, 4 * coef},
                    ps.get("backbone.a").getGradient().toFloatArray(),
                    1e-7f);
            assertArrayEquals(
                    new float[] {12 * coef, 0, 0},
                    ps.get("backbone.b").getGradient().toFloatArray(),
                    1e-7f);
            assertArrayEquals(GC, ps.get("dino_head.c").getGradient().toFloatArray(), "below max_norm: untouched");
            float cd = (float) (1.0 / (3.0 + 1e-6));
            assertArrayEquals(
                    new float[] {2 * cd, -2 * cd, cd},
                    ps.get("ibot_head.d").getGradient().toFloatArray(),
                    1e-7f);
            Map<String, Double> after = GradClip.norms(ps, groups());
            assertEquals(1.0, after.get("backbone"), 1e-5);
            assertEquals(0.5, after.get("dino_head"), 1e-6);
            assertEquals(1.0, after.get("ibot_head"), 1e-5);
        }
    }

    @Test
    void zeroMaxNormDisablesClipping() {
        try (NDManager m = NDManager.newBaseManager();
                ParamSet ps = params(m)) {
            GradClip.clip(ps, groups(), GradClip.norms(ps, groups()), 0.0);
            assertArrayEquals(GA, ps.get("backbone.a").getGradient().toFloatArray());
            assertArrayEquals(GD, ps.get("ibot_head.d").getGradient().toFloatArray());
        }
    }

    @Test
    void everySubmoduleBelowTheMaximumIsUntouched() {
        try (NDManager m = NDManager.newBaseManager();
                ParamSet ps = params(m)) {
            GradClip.clip(ps, groups(), GradClip.norms(ps, groups()), 100.0);
            assertArrayEquals(GA, ps.get("backbone.a").getGradient().toFloatArray());
            assertArrayEquals(GB, ps.get("backbone.b").getGradient().toFloatArray());
            assertArrayEquals(GC, ps.get("dino_head.c").getGradient().toFloatArray());
            assertArrayEquals(GD, ps.get("ibot_head.d").getGradient().toFloatArray());
        }
    }
}
