package dev.dinoj.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.dinoj.trainer.checkpoint.GramState;
import dev.dinoj.trainer.config.GramSettings;
import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.loss.GramLoss;
import dev.dinoj.trainer.model.ModelInit;
import dev.dinoj.trainer.model.ParamSet;
import dev.dinoj.trainer.model.Scalars;
import dev.dinoj.trainer.model.VisionTransformer;
import dev.dinoj.trainer.model.VitConfig;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * DINOv3 Gram anchoring as a plug-in of {@link SslMetaArch}: owns the Gram teacher (a backbone snapshot of the EMA
 * teacher, taken at {@code it-load-ema-teacher} and refreshed on the {@code update-frequency} schedule), runs it on
 * the global crops and adds the weighted {@link GramLoss} between its patch similarities and the student's.
 *
 * <p>With {@code ema-teacher = true} there is no snapshot: the EMA teacher's own patch tokens of the same step are
 * the targets.
 */
public final class GramAnchor implements GramState, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(GramAnchor.class);

    private final GramSettings settings;
    private final ParamSet teacher; // backbone.* of the student architecture; null with ema-teacher
    private final VisionTransformer backbone;
    private boolean initialized;
    private double weight;

    /**
     * @param arch the student's (= EMA teacher's) backbone architecture
     */
    public GramAnchor(NDManager manager, GramSettings settings, VitConfig arch) {
        this.settings = settings;
        if (settings.emaTeacher()) {
            this.teacher = null;
            this.backbone = null;
        } else {
            this.teacher = new ParamSet(manager);
            new ModelInit(0).backbone(teacher, SslMetaArch.BACKBONE + ".", arch); // names and shapes; loaded later
            this.backbone = new VisionTransformer(arch, teacher, SslMetaArch.BACKBONE + ".");
        }
    }

    public GramSettings settings() {
        return settings;
    }

    /** The Gram teacher's parameters ({@code backbone.*}), or null with {@code ema-teacher = true}. */
    public ParamSet teacher() {
        return teacher;
    }

    /** Whether the loss is active (the snapshot has been taken, or the EMA teacher is used). */
    public boolean initialized() {
        return settings.emaTeacher() || initialized;
    }

    /** Before step {@code step}: takes the first snapshot when due, and fixes the step's loss weight. */
    void beforeStep(long step, ParamSet ema) {
        if (teacher != null && step == settings.itLoadEmaTeacher()) {
            log.info("Gram teacher: loading the EMA teacher before step {}", step);
            copyFrom(ema);
        }
        weight = settings.weight(step);
    }

    /** After the EMA update of step {@code step}: refreshes the Gram teacher when the schedule says so. */
    void afterStep(long step, ParamSet ema) {
        if (teacher != null && settings.refreshAfter(step)) {
            log.info("Gram teacher: refreshed from the EMA teacher after step {}", step);
            copyFrom(ema);
        }
    }

    /**
     * The weighted Gram loss of one step, or null when not active yet.
     *
     * @param studentPatches (2B, N, D) the student's patch tokens of the global crops (masked as the student saw them)
     * @param emaPatches     (2B, N, D') the EMA teacher's patch tokens of the same crops (used with ema-teacher)
     */
    NDArray loss(NDArray studentPatches, NDArray emaPatches, StepBatch batch, Map<String, Double> logged) {
        if (!initialized()) {
            return null;
        }
        NDArray targets = teacher == null
                ? emaPatches
                : backbone.forward(batch.globalCrops(), null, false, null).patchTokens(); // (2B, N, D)
        NDArray s = studentPatches;
        NDArray t = targets;
        if (settings.tokensUsed() != GramSettings.Tokens.ALL) {
            if (batch.masks() == null) {
                throw new IllegalStateException("gram.tokens-used = masked/unmasked needs masked global crops");
            }
            NDArray m = batch.masks().reshape(-1); // (2B·N)
            NDArray rows = (settings.tokensUsed() == GramSettings.Tokens.MASKED ? m : m.logicalNot())
                    .nonzero()
                    .reshape(-1); // (n) selected patch indices
            s = s.reshape(-1, s.getShape().get(2)).get(rows); // (n, D)
            t = t.reshape(-1, t.getShape().get(2)).get(rows); // (n, D')
        }
        NDArray gram = GramLoss.loss(s, t, settings.loss());
        logged.put("gram_loss", (double) gram.getFloat());
        logged.put("gram_loss_weight", weight);
        return Scalars.mul(gram, (float) weight);
    }

    /** Restores the snapshot from a checkpoint's tensors. */
    public void restore(Map<String, NpyArray> tensors, String source) {
        teacher.load(tensors, source);
        initialized = true;
    }

    /**
     * After a resume from a checkpoint without a Gram teacher (e.g. Gram anchoring switched on for a run that had it
     * off): a snapshot due before {@code step} is taken from the restored EMA teacher now.
     */
    public void initializeMissing(long step, ParamSet ema) {
        if (teacher != null && !initialized && step > settings.itLoadEmaTeacher()) {
            log.warn("Gram teacher: the checkpoint has none; taking it from the EMA teacher at step {}", step);
            copyFrom(ema);
        }
    }

    private void copyFrom(ParamSet ema) {
        try (NDScope scope = new NDScope()) {
            for (String name : teacher.names()) {
                NDArray dst = teacher.get(name);
                Scalars.muli(dst, 0).addi(ema.get(name)); // exact copy, in place
            }
            scope.suppressNotUsedWarning();
        }
        initialized = true;
    }

    @Override
    public void close() {
        if (teacher != null) {
            teacher.close();
        }
    }
}
