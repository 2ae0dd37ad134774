package dev.dinoj.trainer.loss;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.dinoj.trainer.model.Scalars;

/**
 * Softmax centering with an EMA center, applied lazily as dinov2 does: statistics of step t are recorded by
 * {@link #update} and folded into the center ({@code c ← m·c + (1−m)·mean}) only when the next step calls
 * {@link #softmaxCentered}. Holds its own native memory; the pending statistics are part of the training state.
 */
public final class SoftmaxCenter implements AutoCloseable {

    private final NDManager manager;
    private final double momentum;
    private NDArray center; // (1, K)
    private NDArray pendingSum; // (1, K) sum of the rows of the last update, or null
    private double pendingCount;
    private NDArray stagedSum; // recorded by update(), becomes pending on commit()
    private double stagedCount;

    public SoftmaxCenter(NDManager parent, int prototypes, double momentum) {
        this.manager = parent.newSubManager();
        this.momentum = momentum;
        this.center = manager.zeros(new Shape(1, prototypes));
        NDScope.unregister(center);
    }

    /** softmax((t − center) / τ) after applying any pending update; t is (n, K). */
    public NDArray softmaxCentered(NDArray teacherOutput, double teacherTemp) {
        applyPending();
        return Scalars.div(teacherOutput.sub(center), teacherTemp).softmax(-1);
    }

    /**
     * Records the mean over all rows (of all ranks) of this step's teacher outputs (n, K). The statistics take
     * effect only after {@link #commit()} (called once the step's loss is known to be finite), so a diverged step
     * cannot poison the center.
     */
    public void update(NDArray teacherOutput, GlobalSum sums) {
        NDArray sum = sums.sum(teacherOutput.sum(new int[] {0}, true));
        double count = sums.sum((double) teacherOutput.getShape().get(0));
        discard();
        stagedSum = sum.duplicate();
        keep(stagedSum);
        stagedCount = count;
    }

    /** Makes the statistics of the last {@link #update} the pending update (applied at the next step). */
    public void commit() {
        if (stagedSum == null) {
            return;
        }
        if (pendingSum != null) {
            pendingSum.close();
        }
        pendingSum = stagedSum;
        pendingCount = stagedCount;
        stagedSum = null;
    }

    /** Forgets the statistics of the last {@link #update} (the step diverged). */
    public void discard() {
        if (stagedSum != null) {
            stagedSum.close();
            stagedSum = null;
        }
    }

    /** Folds the pending statistics into the center (no-op when none are pending). */
    public void applyPending() {
        if (pendingSum == null) {
            return;
        }
        NDArray next =
                Scalars.mul(center, momentum).add(Scalars.mul(Scalars.div(pendingSum, pendingCount), 1 - momentum));
        keep(next);
        center.close();
        center = next;
        pendingSum.close();
        pendingSum = null;
    }

    /** Moves a long-lived array out of any open {@link NDScope} into this object's manager. */
    private void keep(NDArray a) {
        a.attach(manager);
        NDScope.unregister(a);
    }

    public NDArray center() {
        return center;
    }

    /** Host state: center, pending sum (or null) and pending count, for checkpoints. */
    public float[] centerHost() {
        return center.toFloatArray();
    }

    public float[] pendingHost() {
        return pendingSum == null ? null : pendingSum.toFloatArray();
    }

    public double pendingCount() {
        return pendingCount;
    }

    /** Restores the host state written by a checkpoint. */
    public void restore(float[] centerValues, float[] pending, double count) {
        center.set(centerValues);
        if (pendingSum != null) {
            pendingSum.close();
            pendingSum = null;
        }
        if (pending != null) {
            pendingSum = manager.create(pending, center.getShape());
            keep(pendingSum);
            pendingCount = count;
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
