package dev.dinoj.trainer.train.sharded;

import ai.djl.ndarray.NDArray;
import dev.dinoj.trainer.checkpoint.ShardedTrainState;
import dev.dinoj.trainer.collective.Communicator;
import dev.dinoj.trainer.collective.Partition;
import dev.dinoj.trainer.collective.ReduceOp;
import dev.dinoj.trainer.collective.WireFormat;
import dev.dinoj.trainer.model.GradMode;
import dev.dinoj.trainer.optim.FlatLayout;
import dev.dinoj.trainer.optim.HostStaging;
import dev.dinoj.trainer.optim.ShardedAdamW;
import dev.dinoj.trainer.schedule.Schedules;
import dev.dinoj.trainer.train.DivergenceException;
import dev.dinoj.trainer.train.SegmentedBackward;
import dev.dinoj.trainer.train.SslMetaArch;
import dev.dinoj.trainer.train.StepBatch;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * The FSDP-like ({@code SHARD_GRAD_OP}) training step of one rank. Every rank holds the full student and teacher for
 * forward/backward and owns shard {@code rank} of the flat parameter vector ({@link FlatLayout}) for the optimiser:
 *
 * <ol>
 *   <li>forward/backward on this rank's part of the global batch, with Sinkhorn-Knopp / center statistics summed
 *       over ranks ({@link AllReduceGlobalSum});</li>
 *   <li>reduce-scatter of the flat gradient, divided by N (the mean over ranks = the gradient of the global-batch
 *       loss, since every loss term is a mean over equally sized rank batches); with overlap, bucket by bucket on a
 *       communication thread while the backward goes on ({@link OverlappedReduceScatter});</li>
 *   <li>one small all-reduce of the shard's Σg² per submodule (→ global gradient norms), a non-finite-loss flag and
 *       the loss values (→ means over ranks), so every rank takes the same decisions;</li>
 *   <li>clip coefficient per submodule {@code min(1, max/(norm + 1e-6))} ({@link dev.dinoj.trainer.optim.GradClip}'s
 *       rule) and AdamW on the shard ({@link ShardedAdamW});</li>
 *   <li>all-gather of the updated parameters (float32), written back into the student;</li>
 *   <li>EMA teacher update, computed identically on every rank.</li>
 * </ol>
 *
 * <p>KoLeo is computed per rank over the rank's own batch, as dinov2 does (nearest neighbours within the rank); it is
 * the one term whose value depends on how the batch is split — with DINOv3 Gram anchoring at {@code img-level = false}
 * (one Gram matrix over the rank's batch, as dinov3 computes it per rank) the second.
 *
 * <p>Distillation (a frozen teacher, the spare EMA of the student as the final model) and Gram anchoring (a Gram
 * teacher snapshotted from the EMA) need nothing sharded beyond the student: the frozen teacher, the spare EMA and the
 * Gram teacher are replicated on every rank and change identically there (the EMA and the snapshots are functions of
 * the all-gathered student), as the teacher of pretraining does.
 */
public final class ShardedTrainer implements ShardedTrainState, AutoCloseable {

    private final SslMetaArch model;
    private final Communicator comm;
    private final FlatLayout layout;
    private final Partition shards;
    private final HostStaging gradStaging; // null with one rank without overlap: nothing crosses Aeron
    private final HostStaging paramStaging;
    private final NDArray gradShard; // this rank's range of gradStaging (the reduce-scatter's output)
    private final NDArray paramShard; // this rank's range of paramStaging (the all-gather's input)
    private final ShardedAdamW optimizer;
    private final WireFormat gradWire;
    private final AllReduceGlobalSum globalSum;
    private final OverlappedReduceScatter overlapEngine; // null: constructed without overlap
    private final SegmentedBackward segments;
    private OverlappedReduceScatter overlap; // null: one reduce-scatter after the whole backward

    /**
     * What one step reports; losses and norms are global (identical on every rank). Times are this rank's.
     *
     * @param forwardBackwardSeconds forward + backward (+ the gradient copies), without the time blocked in the
     *                               global sums of the forward
     * @param communicationSeconds   time the step thread was blocked in collectives: global sums, waiting for the
     *                               gradient reduce-scatter, the statistics all-reduce, the parameter all-gather
     * @param optimizerSeconds       sharded AdamW, writing the parameters back, EMA teacher
     * @param stepSeconds            the whole step
     * @param globalSumSeconds       part of communicationSeconds: the global sums of the forward (Sinkhorn-Knopp,
     *                               centers); includes waiting for a slower rank to get there
     * @param gradientWaitSeconds    part of communicationSeconds: waiting for the gradient reduce-scatter after the
     *                               backward (all of it without overlap)
     * @param reduceScatterSeconds   time the gradient reduce-scatters took (with overlap: on the communication
     *                               thread, mostly while the backward ran)
     * @param overlapped             whether the reduce-scatter of this step overlapped the backward
     */
    public record StepResult(
            Map<String, Double> losses,
            double totalLoss,
            Map<String, Double> gradNorms,
            double forwardBackwardSeconds,
            double communicationSeconds,
            double optimizerSeconds,
            double stepSeconds,
            double globalSumSeconds,
            double gradientWaitSeconds,
            double reduceScatterSeconds,
            boolean overlapped) {

        /** The step's compute alone: everything but the time blocked in communication. */
        public double computeSeconds() {
            return stepSeconds - communicationSeconds;
        }
    }

    /** A trainer without overlap (one reduce-scatter after the whole backward). */
    public ShardedTrainer(SslMetaArch model, Communicator comm, WireFormat gradWire) {
        this(model, comm, gradWire, false);
    }

    /**
     * @param model    this rank's model; its student must be identical on every rank (same seed, or after a load)
     * @param comm     the world's communicator for this rank
     * @param gradWire wire format of the gradient reduce-scatter (parameters always travel as float32)
     * @param overlap  reduce-scatter the gradients bucket by bucket on a communication thread while the backward
     *                 continues ({@link OverlappedReduceScatter}); bitwise the same result. Close the trainer to
     *                 stop the thread.
     */
    public ShardedTrainer(SslMetaArch model, Communicator comm, WireFormat gradWire, boolean overlap) {
        this.model = model;
        this.comm = comm;
        this.gradWire = gradWire;
        this.layout = FlatLayout.of(model.student(), model.groups());
        this.shards = layout.shards(comm.size());
        int lo = shards.offset(comm.rank());
        int hi = shards.end(comm.rank());
        this.optimizer = new ShardedAdamW(
                layout,
                lo,
                hi,
                model.config().adamBeta1(),
                model.config().adamBeta2(),
                1e-8,
                model.student().manager());
        if (comm.size() > 1 || overlap) { // host staging for what crosses Aeron (overlap: the bucket machinery)
            this.gradStaging = new HostStaging(layout, model.student().manager());
            this.paramStaging = new HostStaging(layout, model.student().manager());
            this.gradShard = gradStaging.range(lo, hi);
            this.paramShard = paramStaging.range(lo, hi);
        } else {
            this.gradStaging = null;
            this.paramStaging = null;
            this.gradShard = null;
            this.paramShard = null;
        }
        this.globalSum = new AllReduceGlobalSum(comm);
        model.setGlobalSum(globalSum);
        optimizer.loadParameters(model.student());
        if (overlap) {
            int depth = model.config().backbone().depth();
            this.overlapEngine =
                    new OverlappedReduceScatter(comm, layout, model.student(), gradStaging, shards, gradWire, depth);
            this.segments = new SegmentedBackward(depth, overlapEngine);
        } else {
            this.overlapEngine = null;
            this.segments = null;
        }
        setOverlap(overlap);
    }

    /**
     * Switches the overlap off or back on between steps (same results either way; the benchmark alternates to
     * compare both under the same machine load). On needs a trainer constructed with overlap.
     */
    public void setOverlap(boolean on) {
        if (on && overlapEngine == null) {
            throw new IllegalStateException("this trainer was constructed without overlap");
        }
        this.overlap = on ? overlapEngine : null;
        model.setSegmentedBackward(on ? segments : null);
    }

    /** Gradient buckets whose reduce-scatter was launched from inside the backward pass (0 without overlap). */
    public long bucketsLaunchedDuringBackward() {
        return overlapEngine == null ? 0 : overlapEngine.launchedByBackward();
    }

    /** Whether the gradient reduce-scatter overlaps the backward. */
    public boolean overlapped() {
        return overlap != null;
    }

    public FlatLayout layout() {
        return layout;
    }

    public Partition shards() {
        return shards;
    }

    public ShardedAdamW optimizer() {
        return optimizer;
    }

    public Communicator communicator() {
        return comm;
    }

    public SslMetaArch model() {
        return model;
    }

    /** Re-reads the student into the optimiser's shard (after its parameters were loaded from elsewhere). */
    public void refreshFromStudent() {
        optimizer.loadParameters(model.student());
    }

    /**
     * One training step on this rank's part of the batch.
     *
     * @throws DivergenceException on every rank alike, when any rank's loss or any global gradient norm is not finite
     *                             (nothing is updated then)
     */
    public StepResult step(long step, StepBatch localBatch, Schedules.Values v, SplittableRandom rng) {
        GradMode.offOnThisThread(); // the sharded optimizer and all-gather must not record history
        int n = comm.size();
        comm.setStep(step);
        long t0 = System.nanoTime();
        long sumsBefore = globalSum.blockedNanos();
        model.student().zeroGradients();
        model.beforeStep(step); // Gram teacher snapshot/weight: same on every rank
        long busyBefore = 0;
        if (overlap != null) {
            busyBefore = overlap.busyNanos(); // the communication thread is idle between steps
            overlap.beginStep();
        }
        SslMetaArch.StepLosses local = model.forwardBackward(model.studentBatch(localBatch), v.teacherTemp(), rng);
        long blocked = globalSum.blockedNanos() - sumsBefore;

        // ---- reduce-scatter (mean) of the gradient: this rank's shard is now the global gradient ----
        long tWait;
        if (overlap != null) {
            overlap.launchRemaining(); // all of them when the loss was not finite
            tWait = System.nanoTime();
            overlap.awaitAll();
        } else if (n > 1) {
            gradStaging.readGradients(model.student(), 0, layout.count()); // device → host staging
            tWait = System.nanoTime();
            comm.reduceScatter(gradStaging.buffer(), shards, gradWire);
        } else {
            tWait = System.nanoTime(); // one rank: the gradient stays on the device
        }
        long t1 = System.nanoTime();
        blocked += t1 - tWait;
        long reduceScatterNanos = overlap != null ? overlap.busyNanos() - busyBefore : t1 - tWait;
        if (overlap != null || n > 1) {
            optimizer.loadGradients(gradShard); // this rank's reduced shard, host → device
        } else {
            optimizer.loadGradients(model.student());
        }
        optimizer.divideGradients(n);

        // ---- one small all-reduce: Σg² per submodule, non-finite flag, losses ----
        List<String> subs = layout.submodules();
        List<String> lossKeys = new ArrayList<>(local.logged().keySet());
        double[] stats = new double[subs.size() + 2 + lossKeys.size()];
        double[] sq = optimizer.sumSquares();
        System.arraycopy(sq, 0, stats, 0, sq.length);
        boolean finite = Double.isFinite(local.total());
        stats[subs.size()] = finite ? 0 : 1;
        stats[subs.size() + 1] = finite ? local.total() : 0;
        for (int i = 0; i < lossKeys.size(); i++) {
            double x = local.logged().get(lossKeys.get(i));
            stats[subs.size() + 2 + i] = Double.isFinite(x) ? x : 0;
        }
        long tStats = System.nanoTime();
        comm.allReduce(stats, ReduceOp.SUM);
        long t2 = System.nanoTime();
        blocked += t2 - tStats;

        if (stats[subs.size()] > 0) {
            throw new DivergenceException(
                    step,
                    "the total loss is not finite on " + (long) stats[subs.size()] + " of " + n + " ranks (this rank: "
                            + local.total() + " " + local.logged() + ")");
        }
        Map<String, Double> norms = new LinkedHashMap<>();
        double[] coef = new double[subs.size()];
        double clip = model.config().clipGrad();
        for (int i = 0; i < subs.size(); i++) {
            double norm = Math.sqrt(stats[i]);
            if (!Double.isFinite(norm)) {
                throw new DivergenceException(step, "gradient norm of " + subs.get(i) + " is " + norm);
            }
            norms.put(subs.get(i), norm);
            coef[i] = clip > 0 ? Math.min(1.0, clip / (norm + 1e-6)) : 1.0;
        }
        optimizer.step(coef, v.lr(), v.lastLayerLr(), v.wd());
        long t3;
        long t4;
        // ---- all-gather of the updated parameters, back into the student's live tensors; EMA teacher ----
        if (n > 1) {
            optimizer.storeParameters(paramShard); // device → host staging
            t3 = System.nanoTime();
            comm.allGather(paramStaging.buffer(), shards, WireFormat.F32);
            t4 = System.nanoTime();
            paramStaging.writeValues(model.student()); // host → every device tensor, in place
        } else {
            t3 = System.nanoTime();
            t4 = t3;
            optimizer.writeParameters(model.student()); // device → device, in place
        }
        model.updateTeacher(v.momentum());
        model.afterStep(step); // Gram teacher refresh from the (replicated) EMA
        long t5 = System.nanoTime();

        Map<String, Double> losses = new LinkedHashMap<>();
        for (int i = 0; i < lossKeys.size(); i++) {
            losses.put(lossKeys.get(i), stats[subs.size() + 2 + i] / n);
        }
        blocked += t4 - t3;
        long sums = globalSum.blockedNanos() - sumsBefore;
        return new StepResult(
                losses,
                stats[subs.size() + 1] / n,
                norms,
                (tWait - t0 - sums) / 1e9,
                blocked / 1e9,
                ((t3 - t2) + (t5 - t4)) / 1e9,
                (t5 - t0) / 1e9,
                sums / 1e9,
                (t1 - tWait) / 1e9,
                reduceScatterNanos / 1e9,
                overlap != null);
    }

    /**
     * Stops the communication thread of the overlapped reduce-scatter (if any); the communicator stays open, and so do
     * the optimiser's tensors and the host staging (they belong to the student's manager and go with the model), so a
     * checkpoint may still be written.
     */
    @Override
    public void close() {
        if (overlapEngine != null) {
            overlapEngine.close();
        }
    }
}
