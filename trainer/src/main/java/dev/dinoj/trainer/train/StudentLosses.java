package dev.dinoj.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.index.NDIndex;
import dev.dinoj.trainer.config.SslConfig;
import dev.dinoj.trainer.loss.DinoLosses;
import dev.dinoj.trainer.model.BackboneOutput;
import dev.dinoj.trainer.model.DinoHead;
import dev.dinoj.trainer.model.Scalars;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The student side of the step after the backbone (dinov2 {@code forward_backward} from the heads on): DINO head on
 * the local and global CLS tokens, iBOT head on the masked patch tokens, the DINO, KoLeo and iBOT losses with the
 * official weights and normalisers, summed into the back-propagated total.
 *
 * <p>Memory: the heads' outputs are 0.5 MB per row at 131072 prototypes, and each term makes several copies (scaled
 * logits, log-softmax, products with the targets). All of them are freed as soon as the total is known; only what
 * the autograd graph saved (the log-softmax of each term, the targets, the heads' weights) stays until the backward.
 */
final class StudentLosses {

    private static final int N_GLOBAL_CROPS = 2;

    private final SslConfig cfg;
    private final DinoHead studentDino;
    private final DinoHead studentIbot;

    StudentLosses(SslConfig cfg, DinoHead studentDino, DinoHead studentIbot) {
        this.cfg = cfg;
        this.studentDino = studentDino;
        this.studentIbot = studentIbot;
    }

    /**
     * The weighted sum of the DINO, KoLeo and iBOT terms (a scalar with a graph back to the student); the logged
     * values go to {@code logged} under the official keys. Null when no term is on.
     *
     * @param global the student's output on the (masked) global crops
     * @param local  its output on the local crops, or null without local crops
     */
    NDArray total(
            StepBatch batch,
            BackboneOutput global,
            BackboneOutput local,
            TeacherTargets.Targets t,
            boolean doIbot,
            Map<String, Double> logged) {
        return Scopes.keeping(() -> Arrays.asList(totalUnscoped(batch, global, local, t, doIbot, logged)))
                .get(0);
    }

    private NDArray totalUnscoped(
            StepBatch batch,
            BackboneOutput global,
            BackboneOutput local,
            TeacherTargets.Targets t,
            boolean doIbot,
            Map<String, Double> logged) {
        int b = batch.batchSize();
        int nLocal = local == null ? 0 : cfg.nLocalCrops();
        int nLocalTerms = Math.max(cfg.nLocalCrops() * N_GLOBAL_CROPS, 1);
        int nGlobalTerms = (N_GLOBAL_CROPS - 1) * N_GLOBAL_CROPS;
        NDArray maskedPatches = doIbot ? TeacherTargets.maskedRows(global.patchTokens(), batch.maskIndices()) : null;

        // all DINO-head inputs in one pass: [local CLS (L·B); global CLS (2B); masked patches (n) if shared]
        NDList headIn = new NDList();
        if (local != null) {
            headIn.add(local.clsToken());
        }
        headIn.add(global.clsToken());
        boolean sharedIbot = doIbot && !cfg.separateIbotHead();
        if (sharedIbot) {
            headIn.add(maskedPatches);
        }
        NDArray headOut = studentDino.forward(NDArrays.concat(headIn, 0));
        long off = 0;
        NDArray localOut = null;
        if (local != null) {
            localOut = headOut.get(new NDIndex("{}:{}", 0, (long) nLocal * b));
            off = (long) nLocal * b;
        }
        NDArray globalOut = headOut.get(new NDIndex("{}:{}", off, off + 2L * b));
        NDArray maskedOut = null;
        if (doIbot) {
            maskedOut = sharedIbot ? headOut.get(new NDIndex("{}:", off + 2L * b)) : studentIbot.forward(maskedPatches);
        }

        NDArray loss = null;
        if (cfg.doDino()) {
            List<NDArray> teacherChunks =
                    Arrays.asList(t.dino().get(new NDIndex(":{}", b)), t.dino().get(new NDIndex("{}:", b)));
            if (localOut != null) {
                NDArray dinoLocal =
                        Scalars.div(DinoLosses.dino(chunks(localOut, nLocal), teacherChunks, cfg.studentTemp()), (float)
                                (nGlobalTerms + nLocalTerms));
                logged.put("dino_local_crops_loss", (double) dinoLocal.getFloat());
                loss = Scalars.mul(dinoLocal, (float) cfg.dinoLossWeight());
            }
            NDArray dinoGlobal =
                    Scalars.mul(DinoLosses.dino(List.of(globalOut), List.of(t.dino()), cfg.studentTemp()), (float)
                            (2.0 / (nGlobalTerms + nLocalTerms)));
            logged.put("dino_global_crops_loss", (double) dinoGlobal.getFloat());
            loss = add(loss, Scalars.mul(dinoGlobal, (float) cfg.dinoLossWeight()));
            if (cfg.doKoleo()) {
                NDArray cls = global.clsToken();
                NDArray koleo = Scalars.mul(
                        DinoLosses.koleo(cls.get(new NDIndex(":{}", b)))
                                .add(DinoLosses.koleo(cls.get(new NDIndex("{}:", b)))),
                        (float) cfg.koleoLossWeight());
                logged.put("koleo_loss", koleo.getFloat() / 2.0);
                loss = add(loss, koleo);
            }
        }
        if (doIbot) {
            NDArray ibot = Scalars.mul(
                    DinoLosses.ibot(maskedOut, t.ibot(), batch.masksWeight(), 2L * b, cfg.studentTemp()),
                    (float) (2 * (1.0 / N_GLOBAL_CROPS)));
            if (!sharedIbot) {
                maskedOut.close(); // the iBOT head's logits (n, K): the backward needs only their log-softmax
            }
            logged.put("ibot_loss", ibot.getFloat() / 2.0);
            loss = add(loss, Scalars.mul(ibot, (float) cfg.ibotLossWeight()));
        }
        return loss;
    }

    private static List<NDArray> chunks(NDArray x, int n) {
        NDList parts = x.split(n, 0);
        return new ArrayList<>(parts);
    }

    static NDArray add(NDArray acc, NDArray term) {
        return acc == null ? term : acc.add(term);
    }
}
