package dev.dinoj.trainer.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import dev.dinoj.trainer.collective.Partition;
import dev.dinoj.trainer.model.ParamSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** AdamW against {@code torch.optim.AdamW}'s update rule written out in double. */
class AdamWTest {

    private static final double B1 = 0.9;
    private static final double B2 = 0.999;
    private static final double EPS = 1e-8;

    /** Sets the accumulated gradient of each named parameter to the given values (d Σ p·g / dp = g). */
    static void setGradients(ParamSet ps, Map<String, float[]> grads) {
        ps.zeroGradients();
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray loss = null;
            for (Map.Entry<String, float[]> e : grads.entrySet()) {
                NDArray p = ps.get(e.getKey());
                NDArray term =
                        p.mul(p.getManager().create(e.getValue(), p.getShape())).sum();
                loss = loss == null ? term : loss.add(term);
            }
            gc.backward(loss);
        }
    }

    /** PyTorch AdamW state of one parameter in double. */
    private static final class Ref {
        final double[] p;
        final double[] m;
        final double[] v;
        int t;

        Ref(float[] init) {
            p = new double[init.length];
            for (int i = 0; i < init.length; i++) {
                p[i] = init[i];
            }
            m = new double[init.length];
            v = new double[init.length];
        }

        void step(float[] g, double lr, double wd) {
            t++;
            double bc1 = 1 - Math.pow(B1, t);
            double bc2 = 1 - Math.pow(B2, t);
            for (int i = 0; i < p.length; i++) {
                p[i] *= 1 - lr * wd; // decoupled weight decay
                m[i] = B1 * m[i] + (1 - B1) * g[i];
                v[i] = B2 * v[i] + (1 - B2) * g[i] * g[i];
                double denom = Math.sqrt(v[i]) / Math.sqrt(bc2) + EPS; // ε after the bias-corrected sqrt
                p[i] -= lr / bc1 * m[i] / denom;
            }
        }

        void assertMatches(float[] got, float[] before, String what) {
            for (int i = 0; i < p.length; i++) {
                double stepWant = p[i] - before[i];
                double stepGot = got[i] - before[i];
                assertEquals(stepWant, stepGot, 1e-7 + 1e-4 * Math.abs(stepWant), what + " element " + i);
            }
        }
    }

    @Test
    void oneAndTwoStepsMatchThePyTorchFormula() {
        float[] init = {1.0f, -0.5f, 0.25f, 2.0f};
        float[] g1 = {0.3f, -0.1f, 1e-8f, 0f}; // 1e-8 ≈ ε: distinguishes sqrt(v̂) + ε from sqrt(v̂ + ε) etc.
        float[] g2 = {-0.2f, 0.4f, 2e-8f, 0.05f};
        double lr = 0.1;
        double wd = 0.05;
        try (NDManager m = NDManager.newBaseManager();
                ParamSet ps = new ParamSet(m)) {
            ps.put("backbone.w", init, 4);
            ps.attachGradients();
            AdamW opt = new AdamW(ps, List.of(new ParamGroup("backbone.w", "backbone", 1.0, 1.0, false)), B1, B2, EPS);
            Ref ref = new Ref(init);

            float[] before = ps.get("backbone.w").toFloatArray();
            setGradients(ps, Map.of("backbone.w", g1));
            opt.step(lr, 0.0, wd);
            ref.step(g1, lr, wd);
            ref.assertMatches(ps.get("backbone.w").toFloatArray(), before, "step 1");
            assertEquals(1, opt.stepCount());
            // step 1 moves each element by ≈ lr·sign(g) (|m̂/√v̂| = 1), the ε element by lr/2, the zero one not at all
            float[] p1 = ps.get("backbone.w").toFloatArray();
            assertEquals(init[2] * (1 - lr * wd) - lr / 2, p1[2], 1e-6);
            assertEquals(init[3] * (1 - lr * wd), p1[3], 1e-6);

            before = p1;
            setGradients(ps, Map.of("backbone.w", g2));
            opt.step(lr * 0.5, 0.0, wd * 2);
            ref.step(g2, lr * 0.5, wd * 2);
            ref.assertMatches(ps.get("backbone.w").toFloatArray(), before, "step 2");
            assertEquals(2, opt.stepCount());
            opt.close();
        }
    }

    @Test
    void lrAndWeightDecayMultipliersAndTheLastLayerLr() {
        float[] init = {0.8f, -1.2f};
        float[] g = {0.5f, 0.25f};
        double lr = 0.05;
        double lastLr = 0.02;
        double wd = 0.1;
        try (NDManager m = NDManager.newBaseManager();
                ParamSet ps = new ParamSet(m)) {
            ps.put("backbone.blocks.0.attn.qkv.weight", init, 2);
            ps.put("backbone.blocks.0.norm1.bias", init, 2);
            ps.put("dino_head.last_layer.weight_v", init, 2);
            ps.put("dino_head.last_layer.weight_g", init, 2);
            ps.attachGradients();
            List<ParamGroup> groups = List.of(
                    new ParamGroup("backbone.blocks.0.attn.qkv.weight", "backbone", 0.3, 1.0, false),
                    new ParamGroup("backbone.blocks.0.norm1.bias", "backbone", 0.7, 0.0, false),
                    new ParamGroup("dino_head.last_layer.weight_v", "dino_head", 1.0, 1.0, true),
                    new ParamGroup("dino_head.last_layer.weight_g", "dino_head", 0.5, 1.0, true));
            try (AdamW opt = new AdamW(ps, groups, B1, B2, EPS)) {
                setGradients(
                        ps,
                        Map.of(
                                "backbone.blocks.0.attn.qkv.weight",
                                g,
                                "backbone.blocks.0.norm1.bias",
                                g,
                                "dino_head.last_layer.weight_v",
                                g,
                                "dino_head.last_layer.weight_g",
                                g));
                opt.step(lr, lastLr, wd);
                double[][] expect = {{lr * 0.3, wd}, {lr * 0.7, 0.0}, {lastLr, wd}, {lastLr * 0.5, wd}};
                for (int i = 0; i < groups.size(); i++) {
                    Ref ref = new Ref(init);
                    ref.step(g, expect[i][0], expect[i][1]);
                    ref.assertMatches(
                            ps.get(groups.get(i).name()).toFloatArray(),
                            init,
                            groups.get(i).name());
                }
            }
        }
    }

    @Test
    void aFrozenLastLayerDoesNotMove() {
        float[] init = {0.8f, -1.2f};
        try (NDManager m = NDManager.newBaseManager();
                ParamSet ps = new ParamSet(m)) {
            ps.put("dino_head.last_layer.weight_v", init, 2);
            ps.put("dino_head.mlp.0.weight", init, 2);
            ps.attachGradients();
            try (AdamW opt = new AdamW(
                    ps,
                    List.of(
                            new ParamGroup("dino_head.last_layer.weight_v", "dino_head", 1.0, 1.0, true),
                            new ParamGroup("dino_head.mlp.0.weight", "dino_head", 1.0, 1.0, false)),
                    B1,
                    B2,
                    EPS)) {
                setGradients(
                        ps,
                        Map.of(
                                "dino_head.last_layer.weight_v",
                                new float[] {1, 1},
                                "dino_head.mlp.0.weight",
                                new float[] {1, 1}));
                opt.step(0.01, 0.0, 0.04);
                assertArrayEquals(
                        init,
                        ps.get("dino_head.last_layer.weight_v").toFloatArray(),
                        "last-layer lr 0 (frozen): neither the update nor the weight decay applies");
                float[] moved = ps.get("dino_head.mlp.0.weight").toFloatArray();
                assertEquals(0.8 * (1 - 0.01 * 0.04) - 0.01, moved[0], 1e-6);
            }
        }
    }

    @Test
    void stateRoundTripContinuesIdentically() {
        float[] init = {1.0f, -0.5f, 0.25f};
        float[] g1 = {0.3f, -0.1f, 0.2f};
        float[] g2 = {-0.2f, 0.4f, 0.1f};
        List<ParamGroup> groups = List.of(new ParamGroup("backbone.w", "backbone", 1.0, 1.0, false));
        try (NDManager m = NDManager.newBaseManager();
                ParamSet a = new ParamSet(m);
                ParamSet b = new ParamSet(m)) {
            a.put("backbone.w", init, 3);
            a.attachGradients();
            try (AdamW oa = new AdamW(a, groups, B1, B2, EPS)) {
                setGradients(a, Map.of("backbone.w", g1));
                oa.step(0.1, 0.1, 0.05);
                b.put("backbone.w", a.get("backbone.w").toFloatArray(), 3);
                b.attachGradients();
                try (AdamW ob = new AdamW(b, groups, B1, B2, EPS)) {
                    ob.restore(oa.stateHost(), oa.stepCount(), "test");
                    setGradients(a, Map.of("backbone.w", g2));
                    setGradients(b, Map.of("backbone.w", g2));
                    oa.step(0.1, 0.1, 0.05);
                    ob.step(0.1, 0.1, 0.05);
                    assertArrayEquals(
                            a.get("backbone.w").toFloatArray(),
                            b.get("backbone.w").toFloatArray());
                }
            }
        }
    }

    /**
     * The shared formula: {@link ShardedAdamW} over the shards of the flat vector takes the same step as {@link AdamW}
     * over the parameter set, group multipliers and the last-layer lr included, over several steps.
     */
    @Test
    void shardedAdamWTakesTheSameStepAsAdamWOnEveryShard() {
        float[] init = {0.8f, -1.2f, 0.3f};
        try (NDManager m = NDManager.newBaseManager();
                ParamSet ps = new ParamSet(m)) {
            ps.put("backbone.blocks.0.attn.qkv.weight", init, 3);
            ps.put("backbone.blocks.0.norm1.bias", init, 3);
            ps.put("dino_head.last_layer.weight_v", init, 3);
            ps.attachGradients();
            List<ParamGroup> groups = List.of(
                    new ParamGroup("backbone.blocks.0.attn.qkv.weight", "backbone", 0.3, 1.0, false),
                    new ParamGroup("backbone.blocks.0.norm1.bias", "backbone", 0.7, 0.0, false),
                    new ParamGroup("dino_head.last_layer.weight_v", "dino_head", 1.0, 1.0, true));
            FlatLayout layout = FlatLayout.of(ps, groups);
            Partition shards = layout.shards(2);
            List<ShardedAdamW> sharded = List.of(
                    new ShardedAdamW(layout, shards.offset(0), shards.end(0), B1, B2, EPS, m),
                    new ShardedAdamW(layout, shards.offset(1), shards.end(1), B1, B2, EPS, m));
            for (ShardedAdamW shard : sharded) {
                shard.loadParameters(ps);
            }
            double[] noClip = new double[layout.submodules().size()];
            java.util.Arrays.fill(noClip, 1.0);
            java.util.SplittableRandom rng = new java.util.SplittableRandom(7);
            try (AdamW opt = new AdamW(ps, groups, B1, B2, EPS)) {
                for (int t = 1; t <= 3; t++) {
                    Map<String, float[]> g = new java.util.LinkedHashMap<>();
                    for (ParamGroup group : groups) {
                        g.put(group.name(), new float[] {
                            (float) rng.nextGaussian(), (float) rng.nextGaussian(), (float) rng.nextGaussian()
                        });
                    }
                    setGradients(ps, g);
                    double lr = 0.05 / t;
                    for (ShardedAdamW shard : sharded) {
                        shard.loadGradients(ps);
                        shard.step(noClip, lr, 0.02, 0.1);
                    }
                    opt.step(lr, 0.02, 0.1);
                    float[] got = new float[layout.total()];
                    for (ShardedAdamW shard : sharded) {
                        float[] part = shard.parameters().toFloatArray();
                        System.arraycopy(part, 0, got, shard.lo(), part.length);
                    }
                    for (int i = 0; i < layout.count(); i++) {
                        float[] want = ps.get(layout.name(i)).toFloatArray();
                        for (int e = 0; e < want.length; e++) {
                            assertEquals(
                                    want[e],
                                    got[layout.offset(i) + e],
                                    1e-6 + 1e-5 * Math.abs(want[e]),
                                    "step " + t + ", " + layout.name(i) + "[" + e + "]");
                        }
                    }
                }
            }
            assertEquals(3, sharded.get(0).stepCount());
        }
    }
}
