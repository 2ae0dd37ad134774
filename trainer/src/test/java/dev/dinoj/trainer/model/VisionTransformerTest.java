package dev.dinoj.trainer.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.dinoj.testkit.RandomArrays;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** dinov2 DinoVisionTransformer behaviour: shapes, registers, SwiGLU, mask tokens, stochastic depth. */
class VisionTransformerTest {

    private static VitConfig cfg(int depth, FfnType ffn, int registers, double layerScale, double dropPath) {
        return new VitConfig(
                8, 4, 16, depth, 2, 4.0, ffn, registers, layerScale, true, true, true, dropPath, true, 0.1, false);
    }

    @Test
    void forwardShapesWithRegistersAndSwiGlu() {
        VitConfig c = cfg(2, FfnType.SWIGLU, 2, 1e-5, 0.0);
        // swiglufused: hidden = (int(64 · 2/3) + 7) // 8 · 8 = 48
        assertEquals(48, c.ffnHiddenDim());
        try (NDManager m = NDManager.newBaseManager();
                ParamSet p = new ParamSet(m)) {
            new ModelInit(3).backbone(p, "", c);
            assertEquals(new Shape(96, 16), p.get("blocks.0.mlp.w12.weight").getShape());
            assertEquals(new Shape(16, 48), p.get("blocks.1.mlp.w3.weight").getShape());
            assertEquals(new Shape(1, 2, 16), p.get("register_tokens").getShape());
            VisionTransformer vit = new VisionTransformer(c, p, "");
            for (int size : new int[] {8, 12}) {
                int n = (size / 4) * (size / 4);
                NDArray x = m.create(RandomArrays.uniform(2 * 3 * size * size, size), new Shape(2, 3, size, size));
                BackboneOutput out = vit.forward(x, null, false, null);
                assertEquals(new Shape(2, 16), out.clsToken().getShape());
                assertEquals(new Shape(2, 2, 16), out.regTokens().getShape());
                assertEquals(new Shape(2, n, 16), out.patchTokens().getShape());
                assertEquals(new Shape(2, 1 + 2 + n, 16), out.prenorm().getShape());
                for (float v : out.patchTokens().toFloatArray()) {
                    assertTrue(Float.isFinite(v));
                }
            }
        }
    }

    @Test
    void registerTokensSitBetweenClsAndPatchesWithoutPositionEmbedding() {
        VitConfig c = cfg(1, FfnType.MLP, 2, 1e-5, 0.0);
        try (NDManager m = NDManager.newBaseManager();
                ParamSet p = new ParamSet(m)) {
            new ModelInit(4).backbone(p, "", c);
            p.get("register_tokens").set(RandomArrays.uniform(32, 9));
            VisionTransformer vit = new VisionTransformer(c, p, "");
            NDArray x = m.create(RandomArrays.uniform(2 * 3 * 64, 1), new Shape(2, 3, 8, 8));
            float[] t = vit.prepareTokens(x, null).toFloatArray(); // (2, 1 + 2 + 4, 16)
            float[] reg = p.get("register_tokens").toFloatArray();
            for (int b = 0; b < 2; b++) {
                for (int r = 0; r < 2; r++) {
                    for (int d = 0; d < 16; d++) {
                        assertEquals(reg[r * 16 + d], t[(b * 7 + 1 + r) * 16 + d], 0f);
                    }
                }
            }
        }
    }

    @Test
    void maskedPatchesBecomeTheMaskToken() {
        VitConfig c = cfg(1, FfnType.MLP, 1, 1e-5, 0.0);
        int n = 4;
        try (NDManager m = NDManager.newBaseManager();
                ParamSet p = new ParamSet(m)) {
            new ModelInit(5).backbone(p, "", c);
            float[] maskToken = RandomArrays.uniform(16, 77);
            p.get("mask_token").set(maskToken);
            VisionTransformer vit = new VisionTransformer(c, p, "");
            NDArray x = m.create(RandomArrays.uniform(2 * 3 * 64, 2), new Shape(2, 3, 8, 8));
            float[] pos = p.get("pos_embed").toFloatArray(); // (1, 1 + 4, 16)
            int t = 1 + 1 + n;

            boolean[] all = new boolean[2 * n];
            Arrays.fill(all, true);
            float[] masked =
                    vit.prepareTokens(x, m.create(all, new Shape(2, n))).toFloatArray();
            for (int b = 0; b < 2; b++) {
                for (int i = 0; i < n; i++) {
                    for (int d = 0; d < 16; d++) {
                        assertEquals(
                                maskToken[d] + pos[(1 + i) * 16 + d],
                                masked[(b * t + 2 + i) * 16 + d],
                                1e-6f,
                                "image " + b + " patch " + i);
                    }
                }
            }

            boolean[] some = {true, false, false, true, false, false, false, false};
            float[] partial =
                    vit.prepareTokens(x, m.create(some, new Shape(2, n))).toFloatArray();
            float[] plain = vit.prepareTokens(x, null).toFloatArray();
            for (int b = 0; b < 2; b++) {
                for (int i = 0; i < n; i++) {
                    for (int d = 0; d < 16; d++) {
                        int at = (b * t + 2 + i) * 16 + d;
                        float want = some[b * n + i] ? maskToken[d] + pos[(1 + i) * 16 + d] : plain[at];
                        assertEquals(want, partial[at], 1e-6f, "image " + b + " patch " + i);
                    }
                }
            }
            // CLS and registers are never masked
            for (int d = 0; d < 2 * 16; d++) {
                assertEquals(plain[d], masked[d], 0f);
            }
        }
    }

    @Test
    void dropPathRateIsLinearOverBlocksUnlessUniform() {
        VitConfig linear =
                new VitConfig(8, 4, 16, 3, 2, 4.0, FfnType.MLP, 0, 0, true, true, true, 0.3, false, 0.1, false);
        assertEquals(0.0, linear.dropPath(0), 1e-15);
        assertEquals(0.15, linear.dropPath(1), 1e-15);
        assertEquals(0.3, linear.dropPath(2), 1e-15);
        VitConfig uniform = cfg(3, FfnType.MLP, 0, 0, 0.3);
        assertEquals(0.3, uniform.dropPath(0), 0.0);
    }

    /** A one-block model with LayerScale 1 so the residual branches are not negligible. */
    private static VisionTransformer oneBlock(ParamSet p, double rate, boolean attnOnly, boolean ffnOnly) {
        VitConfig c = cfg(1, FfnType.MLP, 0, 1.0, rate);
        new ModelInit(6).backbone(p, "", c);
        if (attnOnly) {
            p.get("blocks.0.ls2.gamma").set(new float[16]);
        }
        if (ffnOnly) {
            p.get("blocks.0.ls1.gamma").set(new float[16]);
        }
        return new VisionTransformer(c, p, "");
    }

    private static double norm(double[] a) {
        double s = 0;
        for (double v : a) {
            s += v * v;
        }
        return Math.sqrt(s);
    }

    /**
     * With one residual branch switched off the block is x + s·f(x), where the per-sample factor s has expectation
     * 1 (subset trick: B/keep with probability keep/B; classic: 1/(1 − rate) with probability 1 − rate). The mean
     * over many seeds therefore approaches the eval-mode (rate 0) output.
     */
    @ParameterizedTest
    @CsvSource({"0.4, true, 200, 0.25", "0.4, false, 200, 0.25", "0.1, true, 400, 0.06"})
    void expectationOverSeedsApproachesTheRateZeroOutput(double rate, boolean attnBranch, int seeds, double tol) {
        try (NDManager m = NDManager.newBaseManager();
                ParamSet p = new ParamSet(m)) {
            VisionTransformer vit = oneBlock(p, rate, attnBranch, !attnBranch);
            NDArray x = m.create(RandomArrays.uniform(4 * 5 * 16, 8), new Shape(4, 5, 16));
            float[] xin = x.toFloatArray();
            float[] eval = vit.block(0, x, false, null).toFloatArray();
            double[] branch = new double[xin.length];
            for (int i = 0; i < xin.length; i++) {
                branch[i] = eval[i] - xin[i];
            }
            double[] mean = new double[xin.length];
            for (int s = 0; s < seeds; s++) {
                try (NDScope scope = new NDScope()) {
                    float[] out = vit.block(0, x, true, new SplittableRandom(s)).toFloatArray();
                    for (int i = 0; i < out.length; i++) {
                        mean[i] += out[i] / (double) seeds;
                    }
                    scope.suppressNotUsedWarning();
                }
            }
            double[] err = new double[xin.length];
            for (int i = 0; i < xin.length; i++) {
                err[i] = mean[i] - eval[i];
            }
            double rel = norm(err) / norm(branch);
            assertTrue(norm(branch) > 1e-2, "the branch must matter for this test: " + norm(branch));
            assertTrue(rel < tol, "mean over " + seeds + " seeds is " + rel + " of the branch away from rate 0");
        }
    }

    @Test
    void subsetTrickLeavesExactlyTheDroppedSamplesUntouched() {
        int b = 4;
        int keep = (int) (b * (1 - 0.4)); // max(int(B·(1 − rate)), 1) = 2
        try (NDManager m = NDManager.newBaseManager();
                ParamSet p = new ParamSet(m)) {
            VisionTransformer vit = oneBlock(p, 0.4, true, false);
            NDArray x = m.create(RandomArrays.uniform(b * 5 * 16, 10), new Shape(b, 5, 16));
            float[] xin = x.toFloatArray();
            float[] eval = vit.block(0, x, false, null).toFloatArray();
            int per = 5 * 16;
            for (long seed = 0; seed < 5; seed++) {
                float[] out = vit.block(0, x, true, new SplittableRandom(seed)).toFloatArray();
                int changed = 0;
                for (int s = 0; s < b; s++) {
                    float[] in = Arrays.copyOfRange(xin, s * per, (s + 1) * per);
                    float[] o = Arrays.copyOfRange(out, s * per, (s + 1) * per);
                    if (Arrays.equals(in, o)) {
                        continue; // dropped: bitwise the input
                    }
                    changed++;
                    for (int i = 0; i < per; i++) { // kept: x + (B / keep)·f(x)
                        float f = eval[s * per + i] - in[i];
                        assertEquals(in[i] + (double) b / keep * f, o[i], 1e-5, "sample " + s + " element " + i);
                    }
                }
                assertEquals(keep, changed, "seed " + seed + ": exactly " + keep + " samples get the branch");
            }
        }
    }

    @Test
    void evalModeIgnoresDropPath() {
        try (NDManager m = NDManager.newBaseManager();
                ParamSet p = new ParamSet(m)) {
            VitConfig with = cfg(2, FfnType.MLP, 0, 1.0, 0.4);
            VitConfig without = cfg(2, FfnType.MLP, 0, 1.0, 0.0);
            new ModelInit(12).backbone(p, "", with);
            NDArray img = m.create(RandomArrays.uniform(4 * 3 * 64, 13), new Shape(4, 3, 8, 8));
            float[] a = new VisionTransformer(with, p, "")
                    .forward(img, null, false, null)
                    .clsToken()
                    .toFloatArray();
            float[] b = new VisionTransformer(without, p, "")
                    .forward(img, null, false, null)
                    .clsToken()
                    .toFloatArray();
            float[] c = new VisionTransformer(without, p, "")
                    .forward(img, null, true, null)
                    .clsToken()
                    .toFloatArray();
            assertArrayEquals(b, a, "training=false: no stochastic depth");
            assertArrayEquals(b, c, "rate 0 in training: no stochastic depth, no rng needed");
            float[] d = new VisionTransformer(with, p, "")
                    .forward(img, null, true, new SplittableRandom(1))
                    .clsToken()
                    .toFloatArray();
            assertFalse(Arrays.equals(a, d), "training=true with rate 0.4 does drop");
        }
    }
}
