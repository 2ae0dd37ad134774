package dev.dinoj.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import dev.dinoj.trainer.config.SslConfig;
import dev.dinoj.trainer.loss.Centering;
import dev.dinoj.trainer.loss.GlobalSum;
import dev.dinoj.trainer.loss.SinkhornKnopp;
import dev.dinoj.trainer.loss.SoftmaxCenter;
import dev.dinoj.trainer.model.BackboneOutput;
import dev.dinoj.trainer.model.DinoHead;
import dev.dinoj.trainer.model.VisionTransformer;
import java.util.Arrays;
import java.util.List;

/**
 * The teacher side of the step (dinov2 {@code get_teacher_output}): the teacher's forward pass on the global crops
 * without gradient, its DINO head on the swapped CLS tokens and its iBOT head on the masked patches, then centering
 * (softmax centers, or Sinkhorn-Knopp with its totals summed over ranks).
 */
final class TeacherTargets {

    private static final int SINKHORN_ITERATIONS = 3;

    private final SslConfig cfg;
    private final VisionTransformer teacherBackbone;
    private final DinoHead teacherDino;
    private final DinoHead teacherIbot;
    private final SoftmaxCenter dinoCenter;
    private final SoftmaxCenter ibotCenter;

    TeacherTargets(
            SslConfig cfg,
            VisionTransformer teacherBackbone,
            DinoHead teacherDino,
            DinoHead teacherIbot,
            SoftmaxCenter dinoCenter,
            SoftmaxCenter ibotCenter) {
        this.cfg = cfg;
        this.teacherBackbone = teacherBackbone;
        this.teacherDino = teacherDino;
        this.teacherIbot = teacherIbot;
        this.dinoCenter = dinoCenter;
        this.ibotCenter = ibotCenter;
        // the teacher never records a graph (its parameters take no gradient): each block's scratch arrays can go
        teacherBackbone.setBlockCut((block, xs, training, rng, run) -> Scopes.keeping(() -> run.apply(xs, rng)));
    }

    /** Teacher targets for the DINO loss (2B, K) in swapped crop order, and for iBOT (n, K). */
    record Targets(NDArray dino, NDArray ibot, NDArray patchTokens) {}

    /**
     * The targets; of everything computed on the way (the heads' 131072-wide logits and their centering are the
     * bulk: 0.5 MB per row) only they stay allocated.
     */
    Targets compute(StepBatch batch, double teacherTemp, boolean doIbot, GlobalSum sums) {
        List<NDArray> kept = Scopes.keeping(() -> {
            Targets t = computeUnscoped(batch, teacherTemp, doIbot, sums);
            return Arrays.asList(t.dino(), t.ibot(), t.patchTokens());
        });
        return new Targets(kept.get(0), kept.get(1), kept.get(2));
    }

    private Targets computeUnscoped(StepBatch batch, double teacherTemp, boolean doIbot, GlobalSum sums) {
        int b = batch.batchSize();
        BackboneOutput out = teacherBackbone.forward(batch.globalCrops(), null, false, null);
        NDArray cls = out.clsToken(); // (2B, D)
        // swapped so that crop A's student is matched to crop B's teacher
        NDArray swapped =
                NDArrays.concat(new NDList(cls.get(new NDIndex("{}:", b)), cls.get(new NDIndex(":{}", b))), 0);
        NDArray clsOut;
        NDArray maskedOut = null;
        if (doIbot) {
            NDArray masked = maskedRows(out.patchTokens(), batch.maskIndices()); // (n, D)
            if (teacherIbot != teacherDino) {
                clsOut = teacherDino.forward(swapped);
                maskedOut = teacherIbot.forward(masked);
            } else {
                NDArray both = teacherDino.forward(NDArrays.concat(new NDList(swapped, masked), 0));
                clsOut = both.get(new NDIndex(":{}", 2L * b));
                maskedOut = both.get(new NDIndex("{}:", 2L * b));
            }
        } else {
            clsOut = teacherDino.forward(swapped);
        }
        NDArray dinoTargets;
        NDArray ibotTargets = null;
        if (cfg.centering() == Centering.SOFTMAX) {
            dinoTargets = dinoCenter.softmaxCentered(clsOut, teacherTemp);
            dinoCenter.update(clsOut, sums);
            if (doIbot) {
                ibotTargets = ibotCenter.softmaxCentered(maskedOut, teacherTemp);
                ibotCenter.update(maskedOut, sums);
            }
        } else {
            double globalCls = sums.sum((double) clsOut.getShape().get(0));
            dinoTargets = SinkhornKnopp.apply(clsOut, teacherTemp, globalCls, SINKHORN_ITERATIONS, sums);
            if (doIbot) {
                double globalMasked = sums.sum((double) batch.nMaskedPatches());
                ibotTargets = SinkhornKnopp.apply(maskedOut, teacherTemp, globalMasked, SINKHORN_ITERATIONS, sums);
            }
        }
        return new Targets(dinoTargets, ibotTargets, out.patchTokens());
    }

    /** Rows of the flattened patch tokens (2B·N, D) selected by {@code mask_indices_list}. */
    static NDArray maskedRows(NDArray patchTokens, NDArray maskIndices) {
        long d = patchTokens.getShape().get(2);
        return patchTokens.reshape(-1, d).get(maskIndices);
    }
}
