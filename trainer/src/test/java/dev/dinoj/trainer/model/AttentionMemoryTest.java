package dev.dinoj.trainer.model;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import dev.dinoj.trainer.bench.TrainStepBench;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Peak memory of a training forward + backward at two token counts, fused attention against the DJL composition:
 * the composition keeps every head's (T × T) probabilities for the backward, so its peak grows quadratically in the
 * tokens; SDPA's CPU flash kernel keeps only the output and the log-sum-exp, so its peak grows linearly. Prints the
 * table (the figures of docs/TRAINING.md, "Precision and attention").
 */
class AttentionMemoryTest {

    private static final VitConfig CFG =
            new VitConfig(64, 4, 48, 2, 3, 4.0, FfnType.MLP, 0, 0.0, true, true, true, 0.0, true, 0.1, false);
    private static final int BATCH = 8;

    @Test
    void fusedAttentionPeakGrowsLinearlyInTokens() {
        assumeTrue(TrainStepBench.resetPeakResident(), "needs /proc/self/clear_refs (Linux)");
        int[] sizes = {64, 128}; // 16² + 1 = 257 and 32² + 1 = 1025 tokens
        double[][] mib = new double[2][sizes.length];
        try (NDManager m = NDManager.newBaseManager();
                ParamSet p = new ParamSet(m);
                VitKernels sdpa = VitKernels.compile(CFG, Compute.DEFAULT, Device.cpu())) {
            new ModelInit(2).backbone(p, "", CFG);
            p.attachGradients();
            // fused first: memory the manual runs free later is not reused by it
            VisionTransformer[] vits = {
                new VisionTransformer(CFG, p, "").withKernels(sdpa), new VisionTransformer(CFG, p, "")
            };
            for (int v = 0; v < 2; v++) {
                for (int s = 0; s < sizes.length; s++) {
                    fwdBwd(vits[v], p, m, sizes[s]); // warm up allocator and kernels at this size
                    mib[v][s] = fwdBwd(vits[v], p, m, sizes[s]);
                }
            }
        }
        StringBuilder table = new StringBuilder(String.format(
                Locale.ROOT,
                "attention peak memory above the resting set, training forward+backward, ViT %dx%d, %d heads, "
                        + "batch %d (MiB)%n%-8s %10s %10s%n",
                CFG.embedDim(),
                CFG.depth(),
                CFG.numHeads(),
                BATCH,
                "tokens",
                "sdpa",
                "manual"));
        for (int s = 0; s < sizes.length; s++) {
            int t = (sizes[s] / CFG.patchSize()) * (sizes[s] / CFG.patchSize()) + 1;
            table.append(String.format(Locale.ROOT, "%-8d %10.1f %10.1f%n", t, mib[0][s], mib[1][s]));
        }
        System.out.print(table);
        double sdpaGrowth = mib[0][1] - mib[0][0];
        double manualGrowth = mib[1][1] - mib[1][0];
        // 4x the tokens: linear terms grow ~4x, the kept scores 16x (8·3·1025² floats = 96 MiB per block)
        assertTrue(manualGrowth > 100, "manual attention keeps the scores: " + table);
        assertTrue(sdpaGrowth < manualGrowth / 3, "fused attention must not keep the scores: " + table);
    }

    /** MiB the process's resident set rose above its level before a training forward + backward at {@code size}. */
    private static double fwdBwd(VisionTransformer vit, ParamSet p, NDManager m, int size) {
        p.zeroGradients();
        double before = TrainStepBench.procStatusBytes("VmRSS") / (1024.0 * 1024.0);
        TrainStepBench.resetPeakResident();
        try (NDScope scope = new NDScope()) {
            NDArray x = m.randomNormal(new Shape(BATCH, 3, size, size));
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                BackboneOutput o = vit.forward(x, null, true, null);
                gc.backward(o.prenorm().mul(o.prenorm()).sum());
            }
            scope.suppressNotUsedWarning();
        }
        return TrainStepBench.peakResidentMiB() - before;
    }
}
