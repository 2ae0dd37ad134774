package dev.dinoj.trainer.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The TorchScript branch kernels against the DJL composition: fused attention in float32 gives the same outputs and
 * gradients; bfloat16 gives close ones, with float32 gradients on the float32 parameters.
 */
class VitKernelsTest {

    private static final VitConfig SWIGLU_REGS =
            new VitConfig(16, 4, 48, 2, 3, 4.0, FfnType.SWIGLU, 2, 0.5, true, true, true, 0.0, true, 0.1, false);
    private static final VitConfig MLP_NO_LS =
            new VitConfig(16, 4, 64, 2, 4, 4.0, FfnType.MLP, 0, 0.0, true, false, true, 0.0, true, 0.1, false);
    private static final VitConfig MLP_SUBSET =
            new VitConfig(16, 4, 64, 3, 4, 4.0, FfnType.MLP, 0, 0.1, false, true, false, 0.25, true, 0.1, false);

    @Test
    void float32FusedAttentionEqualsTheDjlComposition() {
        for (VitConfig cfg : List.of(SWIGLU_REGS, MLP_NO_LS, MLP_SUBSET)) {
            for (AttentionKernel a : AttentionKernel.values()) {
                Errors e = compare(cfg, new Compute(Precision.FP32, a));
                assertTrue(e.output < 1e-5 && e.grad < 1e-4, cfg + " " + a + ": " + e);
            }
        }
    }

    @Test
    void bfloat16IsCloseAndItsGradientsAreFloat32() {
        for (VitConfig cfg : List.of(SWIGLU_REGS, MLP_NO_LS, MLP_SUBSET)) {
            for (AttentionKernel a : AttentionKernel.values()) {
                Errors e = compare(cfg, new Compute(Precision.BF16, a));
                // not float32 (the casts happen) but within bfloat16's 8-bit mantissa over a few layers
                assertTrue(e.output > 1e-5, cfg + " " + a + ": bf16 output equals fp32 " + e);
                assertTrue(e.output < 2e-2 && e.grad < 5e-2, cfg + " " + a + ": " + e);
            }
        }
    }

    @Test
    void bfloat16HeadIsCloseToTheFloat32Head() {
        HeadConfig hc = new HeadConfig(48, 256, 96, 32, 3);
        try (NDManager m = NDManager.newBaseManager();
                ParamSet p = new ParamSet(m);
                HeadKernels k = HeadKernels.compile(3, Device.cpu())) {
            new ModelInit(5).head(p, "h.", hc);
            p.attachGradients();
            DinoHead head = new DinoHead(hc, p, "h.");
            NDArray x = m.randomNormal(new Shape(40, 48));
            NDArray w = m.randomNormal(new Shape(40, 256));
            float[][] ref = headRun(head, p, x, w);
            float[][] bf = headRun(head.withKernels(k), p, x, w);
            assertEquals(
                    DataType.FLOAT32,
                    p.get("h.last_layer.weight_v").getGradient().getDataType());
            double out = relErr(ref[0], bf[0]);
            assertTrue(out > 1e-5 && out < 2e-2, "head output rel err " + out);
            for (int i = 1; i < ref.length; i++) {
                double g = relErr(ref[i], bf[i]);
                assertTrue(g < 5e-2, "head gradient " + i + " rel err " + g);
            }
            assertThrows(
                    IllegalArgumentException.class,
                    () -> new DinoHead(new HeadConfig(48, 256, 96, 32, 2), p, "h.").withKernels(k));
        }
    }

    @Test
    void kernelsOfAnotherArchitectureAreRefused() {
        try (NDManager m = NDManager.newBaseManager();
                ParamSet p = new ParamSet(m);
                VitKernels k = VitKernels.compile(SWIGLU_REGS, Compute.DEFAULT, Device.cpu())) {
            new ModelInit(1).backbone(p, "", MLP_NO_LS);
            VisionTransformer vit = new VisionTransformer(MLP_NO_LS, p, "");
            assertThrows(IllegalArgumentException.class, () -> vit.withKernels(k));
            // another image size is the same block architecture
            new VisionTransformer(SWIGLU_REGS.withImgSize(32), p, "").withKernels(k);
        }
    }

    record Errors(double output, double grad) {}

    /** Relative L2 errors of the kernels' outputs and worst parameter gradient against the DJL path. */
    private static Errors compare(VitConfig cfg, Compute compute) {
        try (NDManager m = NDManager.newBaseManager();
                ParamSet p = new ParamSet(m);
                VitKernels k = VitKernels.compile(cfg, compute, Device.cpu())) {
            new ModelInit(7).backbone(p, "", cfg);
            p.attachGradients();
            NDArray global = m.randomNormal(new Shape(4, 3, 16, 16));
            NDArray local = m.randomNormal(new Shape(6, 3, 8, 8));
            NDArray masks = m.randomUniform(0, 1, new Shape(4, 16)).lt(0.3);
            VisionTransformer vit = new VisionTransformer(cfg, p, "");
            float[][] ref = run(vit, p, global, local, masks);
            float[][] got = run(vit.withKernels(k), p, global, local, masks);
            double out = Math.max(relErr(ref[0], got[0]), relErr(ref[1], got[1]));
            double grad = 0;
            for (int i = 2; i < ref.length; i++) {
                grad = Math.max(grad, relErr(ref[i], got[i]));
            }
            for (NDArray a : p.asMap().values()) {
                assertEquals(DataType.FLOAT32, a.getGradient().getDataType());
            }
            return new Errors(out, grad);
        }
    }

    /** Prenorm outputs of a packed training forward (fixed stochastic depth draws), then every gradient. */
    private static float[][] run(VisionTransformer vit, ParamSet p, NDArray global, NDArray local, NDArray masks) {
        p.zeroGradients();
        List<float[]> out = new ArrayList<>();
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            List<BackboneOutput> outs = vit.forwardPacked(
                    List.of(global, local), java.util.Arrays.asList(masks, null), true, new SplittableRandom(3));
            NDArray loss = null;
            for (BackboneOutput o : outs) {
                out.add(o.prenorm().toFloatArray());
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

    private static float[][] headRun(DinoHead head, ParamSet p, NDArray x, NDArray w) {
        p.zeroGradients();
        List<float[]> out = new ArrayList<>();
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray y = head.forward(x);
            assertEquals(DataType.FLOAT32, y.getDataType());
            out.add(y.toFloatArray());
            gc.backward(y.mul(w).sum());
        }
        for (NDArray a : p.asMap().values()) {
            out.add(a.getGradient().toFloatArray());
        }
        return out.toArray(new float[0][]);
    }

    static double relErr(float[] want, float[] got) {
        assertEquals(want.length, got.length);
        double num = 0;
        double den = 0;
        for (int i = 0; i < want.length; i++) {
            num += Math.pow((double) want[i] - got[i], 2);
            den += Math.pow(want[i], 2);
        }
        return Math.sqrt(num / Math.max(den, 1e-30));
    }
}
