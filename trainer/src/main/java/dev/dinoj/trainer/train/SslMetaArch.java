package dev.dinoj.trainer.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.training.GradientCollector;
import dev.dinoj.trainer.checkpoint.TrainState;
import dev.dinoj.trainer.config.SslConfig;
import dev.dinoj.trainer.loss.GlobalSum;
import dev.dinoj.trainer.loss.SoftmaxCenter;
import dev.dinoj.trainer.model.BackboneOutput;
import dev.dinoj.trainer.model.DinoHead;
import dev.dinoj.trainer.model.GradMode;
import dev.dinoj.trainer.model.ModelInit;
import dev.dinoj.trainer.model.ModelKernels;
import dev.dinoj.trainer.model.ParamSet;
import dev.dinoj.trainer.model.Scalars;
import dev.dinoj.trainer.model.VisionTransformer;
import dev.dinoj.trainer.optim.AdamW;
import dev.dinoj.trainer.optim.GradClip;
import dev.dinoj.trainer.optim.ParamGroup;
import dev.dinoj.trainer.schedule.Schedules;
import dev.dinoj.trainer.weights.PretrainedBackbone;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The DINOv2 student/teacher pair and its training step (dinov2/train/ssl_meta_arch.py + the optimiser logic of
 * train.py): teacher targets with centering, student forward on masked global and local crops, DINO + KoLeo + iBOT
 * losses, backward, per-submodule gradient clipping, AdamW with the official parameter groups, EMA teacher.
 *
 * <p>Parameters use the official names with the {@code backbone.}, {@code dino_head.} and {@code ibot_head.}
 * prefixes. The teacher starts as an exact copy of the student.
 */
public final class SslMetaArch implements TrainState, AutoCloseable {

    public static final String BACKBONE = "backbone";
    public static final String DINO_HEAD = "dino_head";
    public static final String IBOT_HEAD = "ibot_head";

    private final NDManager manager;
    private final SslConfig cfg;
    private final ParamSet student;
    private final ParamSet teacher;
    private final ParamSet ema; // the EMA of the student: the teacher, or a distillation run's spare EMA
    private final String distillTeacherSha256; // SHA-256 of the frozen teacher's weight file; null in pretraining
    private final VisionTransformer studentBackbone;
    private final VisionTransformer teacherBackbone;
    private final DinoHead studentDino;
    private final DinoHead teacherDino;
    private final DinoHead studentIbot;
    private final DinoHead teacherIbot;
    private final SoftmaxCenter dinoCenter;
    private final SoftmaxCenter ibotCenter;
    private final List<ParamGroup> groups;
    private final TeacherTargets targets;
    private final StudentLosses studentLosses;
    private final ModelKernels kernels; // TorchScript kernels of the backbones and heads (precision, attention)
    private AdamW optimizer; // created on first use: a sharded step keeps its own moments
    private GlobalSum sums = GlobalSum.LOCAL;
    private boolean cropPacking = true;
    private SegmentedBackward segments; // the caller's (the sharded step's overlap); null: none
    private SegmentedBackward ownSegments; // activation checkpointing without the caller's segments
    private boolean activationCheckpointing;
    private GramAnchor gram; // DINOv3 Gram anchoring; null when off
    private Runnable beforeBackward; // tests: runs between the forward pass and the backward pass

    /**
     * Losses of one step: the logged values (official keys and scaling), the back-propagated total, and where the
     * time went (teacher targets incl. centering, student forward incl. heads and losses, backward).
     */
    public record StepLosses(
            Map<String, Double> logged,
            double total,
            double teacherSeconds,
            double studentForwardSeconds,
            double backwardSeconds) {}

    /**
     * What one full training step reports.
     *
     * @param forwardBackwardSeconds teacher + student forward and backward
     * @param optimizerSeconds       gradient norms, clipping, AdamW and the EMA update
     */
    public record StepResult(
            StepLosses losses, Map<String, Double> gradNorms, double forwardBackwardSeconds, double optimizerSeconds) {}

    private SslMetaArch(NDManager parent, SslConfig cfg, ParamSet student) {
        this(parent, cfg, student, null);
    }

    /** {@code frozen} null: DINOv2 pretraining (the teacher is the student's EMA); else distillation from it. */
    private SslMetaArch(NDManager parent, SslConfig cfg, ParamSet student, DistillTeacher frozen) {
        this.manager = parent;
        this.cfg = cfg;
        this.student = student;
        this.teacher = frozen == null ? student.copy(parent) : frozen.params();
        this.ema = frozen == null ? teacher : student.copy(parent);
        this.distillTeacherSha256 = frozen == null ? null : frozen.sha256();
        student.attachGradients();
        this.studentBackbone = new VisionTransformer(cfg.backbone(), student, BACKBONE + ".");
        this.studentDino = new DinoHead(cfg.dinoHead(), student, DINO_HEAD + ".");
        this.studentIbot =
                cfg.separateIbotHead() ? new DinoHead(cfg.ibotHead(), student, IBOT_HEAD + ".") : studentDino;
        if (frozen == null) {
            this.teacherBackbone = new VisionTransformer(cfg.backbone(), teacher, BACKBONE + ".");
            this.teacherDino = new DinoHead(cfg.dinoHead(), teacher, DINO_HEAD + ".");
            this.teacherIbot =
                    cfg.separateIbotHead() ? new DinoHead(cfg.ibotHead(), teacher, IBOT_HEAD + ".") : teacherDino;
        } else {
            frozen.checkCompatible(cfg);
            this.teacherBackbone = new VisionTransformer(frozen.backbone(), teacher, BACKBONE + ".");
            this.teacherDino = new DinoHead(frozen.dinoHead(), teacher, DINO_HEAD + ".");
            this.teacherIbot =
                    frozen.ibotHead() != null ? new DinoHead(frozen.ibotHead(), teacher, IBOT_HEAD + ".") : teacherDino;
        }
        this.kernels = new ModelKernels(cfg.compute(), parent.getDevice());
        studentBackbone.withKernels(kernels.vit(studentBackbone.config()));
        teacherBackbone.withKernels(kernels.vit(teacherBackbone.config()));
        for (DinoHead h : List.of(studentDino, studentIbot, teacherDino, teacherIbot)) {
            h.withKernels(kernels.head(h.config()));
        }
        this.dinoCenter = new SoftmaxCenter(parent, cfg.dinoHead().prototypes(), cfg.centerMomentum());
        this.ibotCenter = new SoftmaxCenter(parent, cfg.ibotPrototypes(), cfg.centerMomentum());
        this.groups = paramGroups(cfg, student.names());
        this.targets = new TeacherTargets(cfg, teacherBackbone, teacherDino, teacherIbot, dinoCenter, ibotCenter);
        this.studentLosses = new StudentLosses(cfg, studentDino, studentIbot);
    }

    /** A freshly initialised model (dinov2 initialisation, deterministic in {@code seed}). */
    public static SslMetaArch create(NDManager manager, SslConfig cfg, long seed) {
        return create(manager, cfg, seed, null);
    }

    /**
     * A model whose student and teacher start from the backbone weights in {@code pretrained} (null: freshly
     * initialised, see {@link #create(NDManager, SslConfig, long)}); the heads are freshly initialised.
     */
    public static SslMetaArch create(NDManager manager, SslConfig cfg, long seed, Path pretrained) {
        GradMode.offOnThisThread(); // the teacher copy must not keep a graph back to the student
        return new SslMetaArch(manager, cfg, student(manager, cfg, seed, pretrained));
    }

    /**
     * A distillation model (the DINOv2 paper's recipe for ViT-S/B/L from ViT-g): a freshly initialised student
     * ({@code cfg}, deterministic in {@code seed}; its backbone from {@code pretrained} unless null) learns from the
     * frozen {@code teacher}'s DINO/iBOT targets; the teacher is never updated, and {@link #updateTeacher} updates a
     * spare EMA of the student ({@link #ema()}), the run's final model. Masking and stochastic depth are the caller's
     * business ({@link DistillBatches}, {@code drop-path-rate = 0}). The model owns {@code teacher}'s parameters from
     * here on.
     */
    public static SslMetaArch distillation(
            NDManager manager, SslConfig cfg, long seed, DistillTeacher teacher, Path pretrained) {
        GradMode.offOnThisThread(); // the teacher copy must not keep a graph back to the student
        ParamSet p = null;
        try {
            p = student(manager, cfg, seed, pretrained);
            return new SslMetaArch(manager, cfg, p, teacher);
        } catch (RuntimeException e) {
            if (p != null) {
                p.close();
            }
            teacher.params().close();
            throw e;
        }
    }

    /** The student's parameters: dinov2's initialisation, then the pretrained backbone when one is given. */
    private static ParamSet student(NDManager manager, SslConfig cfg, long seed, Path pretrained) {
        ParamSet p = new ParamSet(manager);
        ModelInit init = new ModelInit(seed);
        init.backbone(p, BACKBONE + ".", cfg.backbone());
        init.head(p, DINO_HEAD + ".", cfg.dinoHead());
        if (cfg.separateIbotHead()) {
            init.head(p, IBOT_HEAD + ".", cfg.ibotHead());
        }
        try {
            PretrainedBackbone.startFrom(p, BACKBONE + ".", cfg.backbone(), pretrained);
        } catch (RuntimeException e) {
            p.close();
            throw e;
        }
        return p;
    }

    /** The official parameter groups of every student parameter (layer-wise decay only inside the backbone). */
    public static List<ParamGroup> paramGroups(SslConfig cfg, List<String> names) {
        List<ParamGroup> out = new ArrayList<>();
        for (String name : names) {
            String sub = name.substring(0, name.indexOf('.'));
            String local = name.substring(sub.length() + 1);
            int blocks = sub.equals(BACKBONE) ? cfg.backbone().depth() : 0;
            out.add(ParamGroup.of(sub, local, blocks, cfg.layerwiseDecay(), cfg.patchEmbedLrMult()));
        }
        return out;
    }

    public SslConfig config() {
        return cfg;
    }

    public ParamSet student() {
        return student;
    }

    public ParamSet teacher() {
        return teacher;
    }

    /**
     * The exponential moving average of the student, checkpointed as {@code teacher.safetensors} and evaluated: the
     * teacher itself in pretraining, the spare EMA in distillation.
     */
    public ParamSet ema() {
        return ema;
    }

    /** Whether the teacher is a frozen distillation teacher. */
    public boolean isDistillation() {
        return ema != teacher;
    }

    /** The SHA-256 of the distillation teacher's weight file, or null in pretraining. */
    public String distillTeacherSha256() {
        return distillTeacherSha256;
    }

    /** Turns DINOv3 Gram anchoring on (the model owns and closes it). */
    public void setGram(GramAnchor gram) {
        this.gram = gram;
    }

    /** The Gram anchoring plug-in, or null. */
    public GramAnchor gram() {
        return gram;
    }

    public VisionTransformer teacherBackbone() {
        return teacherBackbone;
    }

    public VisionTransformer studentBackbone() {
        return studentBackbone;
    }

    public SoftmaxCenter dinoCenter() {
        return dinoCenter;
    }

    public SoftmaxCenter ibotCenter() {
        return ibotCenter;
    }

    /** The full (unsharded) AdamW; allocated on first use. */
    public AdamW optimizer() {
        if (optimizer == null) {
            optimizer = new AdamW(student, groups, cfg.adamBeta1(), cfg.adamBeta2(), 1e-8);
        }
        return optimizer;
    }

    public List<ParamGroup> groups() {
        return groups;
    }

    /**
     * Runs the student's global and local crops through the backbone packed together (one GEMM per layer over all
     * tokens, attention per crop group; default) or as two separate passes. Same results either way.
     */
    public void setCropPacking(boolean on) {
        this.cropPacking = on;
    }

    /**
     * Runs the student's backward in segments (heads, then the blocks from the last to the first), telling
     * {@code segments}' listener whenever a suffix of the gradients is final (the sharded step overlaps the gradient
     * reduce-scatter with the rest of the backward). Same gradients; null restores the single backward call.
     */
    public void setSegmentedBackward(SegmentedBackward segments) {
        this.segments = segments;
    }

    /**
     * Activation checkpointing ({@code train.activation-checkpointing}): the student's blocks keep only their input
     * in the forward and are recomputed in the backward (see {@link SegmentedBackward}), one block's activations in
     * memory instead of all, for about one more forward pass of the student's backbone. Same gradients. Works with a
     * segmented backward (the sharded step's overlap) or without.
     */
    public void setActivationCheckpointing(boolean on) {
        this.activationCheckpointing = on;
    }

    /** The segments of a checkpointed step without a segmented backward of the caller's (nobody listens). */
    private SegmentedBackward checkpointed() {
        if (ownSegments == null) {
            ownSegments = new SegmentedBackward(cfg.backbone().depth(), firstBlock -> {});
        }
        return ownSegments;
    }

    /**
     * Test seam: {@code hook} runs after the forward pass, just before the backward pass (e.g. a garbage collection,
     * which must not change the gradients: everything the autograd graph saved has to live in PyTorch-owned memory,
     * see {@link dev.dinoj.trainer.model.Scalars}). Null removes it.
     */
    void setBeforeBackward(Runnable hook) {
        this.beforeBackward = hook;
    }

    /** Sets how statistics are summed over ranks (default: single process). */
    public void setGlobalSum(GlobalSum sums) {
        this.sums = sums;
    }

    /**
     * One full iteration: zero gradients → forward/backward → clip per submodule → AdamW → EMA teacher.
     *
     * @throws DivergenceException on a non-finite loss or gradient norm (nothing is updated then)
     */
    public StepResult trainStep(long step, StepBatch batch, Schedules.Values v, SplittableRandom rng) {
        long t0 = System.nanoTime();
        student.zeroGradients();
        beforeStep(step);
        StepLosses losses = forwardBackward(studentBatch(batch), v.teacherTemp(), rng);
        long t1 = System.nanoTime();
        if (!Double.isFinite(losses.total())) {
            throw new DivergenceException(step, "total loss is " + losses.total() + " " + losses.logged());
        }
        Map<String, Double> norms = GradClip.norms(student, groups);
        for (Map.Entry<String, Double> e : norms.entrySet()) {
            if (!Double.isFinite(e.getValue())) {
                throw new DivergenceException(step, "gradient norm of " + e.getKey() + " is " + e.getValue());
            }
        }
        GradClip.clip(student, groups, norms, cfg.clipGrad());
        optimizer().step(v.lr(), v.lastLayerLr(), v.wd());
        updateTeacher(v.momentum());
        afterStep(step);
        return new StepResult(losses, norms, (t1 - t0) / 1e9, (System.nanoTime() - t1) / 1e9);
    }

    /**
     * Before the forward pass of step {@code step} (every way of stepping calls it: {@link #trainStep} and the sharded
     * step): takes the Gram teacher's first snapshot when due and fixes the step's Gram weight.
     */
    public void beforeStep(long step) {
        if (gram != null) {
            gram.beforeStep(step, ema);
        }
    }

    /** After the EMA update of step {@code step}: refreshes the Gram teacher when its schedule says so. */
    public void afterStep(long step) {
        if (gram != null) {
            gram.afterStep(step, ema);
        }
    }

    /**
     * The batch as this model's student trains on it: unchanged in pretraining; in distillation without masks and
     * with iBOT on every patch of the global crops ({@link DistillBatches}, the paper's recipe; applying it twice
     * changes nothing).
     */
    public StepBatch studentBatch(StepBatch batch) {
        if (!isDistillation()) {
            return batch;
        }
        return DistillBatches.allPatches(
                batch.globalCrops().getManager(), batch, cfg.backbone().patchSize());
    }

    /** The gradient norms of the current gradients per submodule (before clipping). */
    public Map<String, Double> gradNorms() {
        return GradClip.norms(student, groups);
    }

    /**
     * dinov2 {@code forward_backward}: computes teacher targets and student losses and accumulates the gradient of
     * the total loss into the student parameters.
     */
    public StepLosses forwardBackward(StepBatch batch, double teacherTemp, SplittableRandom rng) {
        GradMode.offOnThisThread(); // only the gradient collector's scope records history
        int nLocal = cfg.nLocalCrops();
        boolean doIbot = cfg.doIbot() && batch.nMaskedPatches() > 0;
        Map<String, Double> logged = new LinkedHashMap<>();
        SegmentedBackward seg = segments != null ? segments : activationCheckpointing ? checkpointed() : null;
        studentBackbone.setBlockCut(seg);
        if (seg != null) {
            seg.begin(activationCheckpointing);
        }
        long t0 = System.nanoTime();
        long t1;
        long t2;
        try (NDScope scope = new NDScope()) {
            // ---- teacher targets (no gradient) ----
            TeacherTargets.Targets t = targets.compute(batch, teacherTemp, doIbot, sums);
            t1 = System.nanoTime();

            // ---- student forward / losses / backward ----
            double total;
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                BackboneOutput global;
                BackboneOutput local = null;
                if (nLocal > 0 && cropPacking) {
                    List<BackboneOutput> both = studentBackbone.forwardPacked(
                            List.of(batch.globalCrops(), batch.localCrops()),
                            Arrays.asList(batch.masks(), null),
                            true,
                            rng);
                    global = both.get(0);
                    local = both.get(1);
                } else {
                    global = studentBackbone.forward(batch.globalCrops(), batch.masks(), true, rng);
                    if (nLocal > 0) {
                        local = studentBackbone.forward(batch.localCrops(), null, true, rng);
                    }
                }
                NDArray loss = studentLosses.total(batch, global, local, t, doIbot, logged);
                if (gram != null) {
                    NDArray g = gram.loss(global.patchTokens(), t.patchTokens(), batch, logged);
                    loss = g == null ? loss : StudentLosses.add(loss, g);
                }
                total = loss.getFloat();
                t2 = System.nanoTime();
                if (Double.isFinite(total)) {
                    if (beforeBackward != null) {
                        beforeBackward.run();
                    }
                    if (seg != null) {
                        seg.backward(gc, loss);
                    } else {
                        gc.backward(loss);
                    }
                    dinoCenter.commit();
                    ibotCenter.commit();
                } else {
                    dinoCenter.discard();
                    ibotCenter.discard();
                }
            }
            scope.suppressNotUsedWarning();
            long t3 = System.nanoTime();
            return new StepLosses(logged, total, (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9);
        }
    }

    /** EMA: teacher ← m·teacher + (1 − m)·student, over every parameter (distillation: the spare EMA). */
    public void updateTeacher(double m) {
        try (NDScope scope = new NDScope()) {
            for (String name : ema.names()) {
                try (NDArray scaled = Scalars.mul(student.get(name), 1 - m)) { // freed per parameter, not at the end
                    Scalars.muli(ema.get(name), m).addi(scaled);
                }
            }
            scope.suppressNotUsedWarning();
        }
    }

    @Override
    public void close() {
        kernels.close();
        if (optimizer != null) {
            optimizer.close();
        }
        dinoCenter.close();
        ibotCenter.close();
        if (gram != null) {
            gram.close();
        }
        if (ema != teacher) {
            ema.close();
        }
        teacher.close();
        student.close();
    }
}
