package dev.dinoj.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Crop packing and chunked attention give the same outputs and gradients as the plain computation. */
class PackingAndChunkingTest {

    private static final VitConfig CFG =
            new VitConfig(16, 4, 48, 2, 3, 4.0, FfnType.SWIGLU, 2, 0.5, true, true, true, 0.0, true, 0.1, false);

    @Test
    void packedGlobalAndLocalCropsEqualSeparatePasses() {
        try (NDManager m = NDManager.newBaseManager();
                ParamSet p = new ParamSet(m)) {
            new ModelInit(3).backbone(p, "", CFG);
            p.attachGradients();
            VisionTransformer vit = new VisionTransformer(CFG, p, "");
            NDArray global = m.randomNormal(new Shape(4, 3, 16, 16));
            NDArray local = m.randomNormal(new Shape(6, 3, 8, 8));
            NDArray masks = m.randomUniform(0, 1, new Shape(4, 16)).lt(0.3);

            float[][] separate = run(vit, p, () -> {
                BackboneOutput g = vit.forward(global, masks, false, null);
                BackboneOutput l = vit.forward(local, null, false, null);
                return List.of(g, l);
            });
            float[][] packed = run(
                    vit, p, () -> vit.forwardPacked(List.of(global, local), Arrays.asList(masks, null), false, null));
            for (int i = 0; i < separate.length; i++) {
                assertClose(separate[i], packed[i], 1e-5, "tensor " + i);
            }
        }
    }

    @Test
    void chunkedAttentionEqualsFullAttention() {
        try (NDManager m = NDManager.newBaseManager();
                ParamSet p = new ParamSet(m)) {
            new ModelInit(4).backbone(p, "", CFG);
            p.attachGradients();
            NDArray x = m.randomNormal(new Shape(2, 3, 32, 32)); // 64 patches + CLS + 2 registers = 67 tokens
            VisionTransformer full = new VisionTransformer(CFG, p, "");
            VisionTransformer chunked = new VisionTransformer(CFG, p, "").withAttentionChunk(10);
            float[][] a = run(full, p, () -> List.of(full.forward(x, null, false, null)));
            float[][] b = run(chunked, p, () -> List.of(chunked.forward(x, null, false, null)));
            for (int i = 0; i < a.length; i++) {
                assertClose(a[i], b[i], 1e-5, "tensor " + i);
            }
        }
    }

    /** Outputs of every group followed by the gradient of Σ outputs·w for every parameter. */
    private static float[][] run(
            VisionTransformer vit, ParamSet p, java.util.function.Supplier<List<BackboneOutput>> f) {
        p.zeroGradients();
        List<float[]> out = new java.util.ArrayList<>();
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            List<BackboneOutput> outs = f.get();
            NDArray loss = null;
            for (BackboneOutput o : outs) {
                out.add(o.prenorm().toFloatArray());
                out.add(o.patchTokens().toFloatArray());
                NDArray term =
                        o.prenorm().mul(o.prenorm()).sum().add(o.clsToken().sum());
                loss = loss == null ? term : loss.add(term);
            }
            gc.backward(loss);
        }
        for (Map.Entry<String, NDArray> e : p.asMap().entrySet()) {
            out.add(e.getValue().getGradient().toFloatArray());
        }
        return out.toArray(new float[0][]);
    }

    private static void assertClose(float[] want, float[] got, double rel, String what) {
        assertEquals(want.length, got.length, what);
        double num = 0;
        double den = 0;
        for (int i = 0; i < want.length; i++) {
            num += Math.pow(want[i] - got[i], 2);
            den += Math.pow(want[i], 2);
        }
        assertTrue(
                Math.sqrt(num) <= rel * Math.sqrt(den) + 1e-7,
                what + ": rel err " + Math.sqrt(num / Math.max(den, 1e-30)));
    }
}
