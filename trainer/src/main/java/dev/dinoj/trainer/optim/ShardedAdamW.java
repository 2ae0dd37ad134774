package dev.dinoj.trainer.optim;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.dinoj.trainer.device.DeviceCopy;
import dev.dinoj.trainer.model.GradMode;
import dev.dinoj.trainer.model.ParamSet;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * AdamW on one contiguous shard {@code [lo, hi)} of the flat parameter vector, on the training device: the shard's
 * parameters (the master copy, as FSDP's flat parameter), its gradient and both moments are flat float32 tensors on the
 * device of the manager given (memory of the moments ∝ 1/N), updated in place. The arithmetic is
 * {@link dev.dinoj.trainer.optim.AdamW}'s ({@code torch.optim.AdamW}) element by element in float32: decoupled weight
 * decay {@code p ← p·(1 − lr·wd)}, {@code m ← β1·m + (1 − β1)·g}, {@code v ← β2·v + (1 − β2)·g²},
 * {@code p ← p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)}, with the lr and weight decay multipliers and the
 * last-layer schedule of each parameter's {@link ParamGroup}. Gradient clipping is folded in as a per-submodule
 * coefficient.
 *
 * <p>The per-step scalars (β's, bias corrections, each segment's decay, step size and clip coefficient) are written
 * into one small host table whose 0-dimensional CPU views the device kernels read as scalar arguments: no host↔device
 * transfer and no allocation on the Java side for them. The updated shard reaches the model through
 * {@link #writeParameters(ParamSet)} (one rank: a device copy into every live parameter tensor) or
 * {@link #storeParameters(NDArray)} (several ranks: into the host staging that the all-gather sends).
 */
public final class ShardedAdamW implements AutoCloseable {

    private static final int B1 = 0;
    private static final int ONE_MINUS_B1 = 1;
    private static final int B2 = 2;
    private static final int ONE_MINUS_B2 = 3;
    private static final int BC2 = 4;
    private static final int EPS = 5;
    private static final int RANKS = 6;
    private static final int FIXED = 7; // then per segment: decay, step size, clip coefficient

    private final FlatLayout layout;
    private final int lo;
    private final int hi;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final NDManager manager; // on the training device
    private final NDManager host; // CPU: the scalar table
    private final NDArray params;
    private final NDArray grads;
    private final NDArray expAvg;
    private final NDArray expAvgSq;
    private final List<int[]> segments = new ArrayList<>(); // {param, start, end} in global elements
    private final List<NDArray[]> views = new ArrayList<>(); // per segment: params, grads, expAvg, expAvgSq
    private final ByteBuffer table;
    private final NDArray[] scalars;
    private long step;

    /**
     * @param device a manager on the training device (the student's); the optimiser's tensors live in sub-managers
     *               of it, freed by {@link #close()} or with it
     */
    public ShardedAdamW(FlatLayout layout, int lo, int hi, double beta1, double beta2, double eps, NDManager device) {
        if (lo < 0 || hi < lo || hi > layout.total()) {
            throw new IllegalArgumentException("shard [" + lo + ", " + hi + ") outside [0, " + layout.total() + ")");
        }
        this.layout = layout;
        this.lo = lo;
        this.hi = hi;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        if (hi > lo) {
            for (int i = layout.paramAt(lo); i < layout.count() && layout.offset(i) < hi; i++) {
                int start = Math.max(lo, layout.offset(i));
                int end = Math.min(hi, layout.offset(i) + layout.length(i));
                if (end > start) {
                    segments.add(new int[] {i, start, end});
                }
            }
        }
        this.manager = device.newSubManager();
        this.host = device.newSubManager(Device.cpu());
        Shape shape = new Shape(hi - lo);
        this.params = persistent(manager.zeros(shape, DataType.FLOAT32));
        this.grads = persistent(manager.zeros(shape, DataType.FLOAT32));
        this.expAvg = persistent(manager.zeros(shape, DataType.FLOAT32));
        this.expAvgSq = persistent(manager.zeros(shape, DataType.FLOAT32));
        for (int[] seg : segments) {
            long a = seg[1] - lo;
            long b = seg[2] - lo;
            views.add(new NDArray[] {
                persistent(DeviceCopy.slice(params, a, b)),
                persistent(DeviceCopy.slice(grads, a, b)),
                persistent(DeviceCopy.slice(expAvg, a, b)),
                persistent(DeviceCopy.slice(expAvgSq, a, b))
            });
        }
        int n = FIXED + 3 * segments.size();
        this.table = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
        NDArray all = persistent(DeviceCopy.hostAlias(host, table, 0, n, new Shape(n)));
        this.scalars = new NDArray[n];
        for (int k = 0; k < n; k++) {
            scalars[k] = persistent(DeviceCopy.element(all, k));
        }
    }

    private static NDArray persistent(NDArray a) {
        NDScope.unregister(a);
        return a;
    }

    public int lo() {
        return lo;
    }

    public int hi() {
        return hi;
    }

    /** The device the shard lives on. */
    public Device device() {
        return params.getDevice();
    }

    /** Optimiser steps taken so far. */
    public long stepCount() {
        return step;
    }

    /** The shard's parameters (live device tensor, element {@code k} is global element {@code lo + k}). */
    public NDArray parameters() {
        return params;
    }

    /** The shard's gradient (live device tensor), as the last load left it. */
    public NDArray gradients() {
        return grads;
    }

    /** First moments of the shard (live device tensor). */
    public NDArray expAvg() {
        return expAvg;
    }

    /** Second moments of the shard (live device tensor). */
    public NDArray expAvgSq() {
        return expAvgSq;
    }

    /** A host copy of the first moments (checkpoints). */
    public float[] expAvgHost() {
        return DeviceCopy.toHostFloats(expAvg);
    }

    /** A host copy of the second moments (checkpoints). */
    public float[] expAvgSqHost() {
        return DeviceCopy.toHostFloats(expAvgSq);
    }

    /** Restores moments for this shard (copied onto the device) and the step count. */
    public void restore(float[] m, float[] v, long stepCount) {
        if (m.length != hi - lo || v.length != hi - lo) {
            throw new IllegalArgumentException(
                    "moments of " + m.length + "/" + v.length + " elements for a shard of " + (hi - lo));
        }
        if (hi > lo) {
            try (NDManager h = NDManager.newBaseManager(Device.cpu());
                    NDArray hm = h.create(m);
                    NDArray hv = h.create(v)) {
                DeviceCopy.copy(hm, expAvg);
                DeviceCopy.copy(hv, expAvgSq);
            }
        }
        this.step = stepCount;
    }

    /** Reads the shard of {@code student}'s parameter tensors into the master copy (after creation or a load). */
    public void loadParameters(ParamSet student) {
        loadSegments(student, false);
    }

    /** Reads the shard of {@code student}'s gradients (one rank: no reduction needed). */
    public void loadGradients(ParamSet student) {
        loadSegments(student, true);
    }

    /** Reads the shard's gradient from {@code hostShard} ({@code hi − lo} floats, e.g. the reduce-scatter's output). */
    public void loadGradients(NDArray hostShard) {
        if (hi > lo) {
            DeviceCopy.copy(hostShard, grads); // neither requires a gradient: nothing to record
        }
    }

    private void loadSegments(ParamSet student, boolean gradient) {
        DeviceCopy.withoutGrad(() -> loadSegmentsNoGrad(student, gradient));
    }

    private void loadSegmentsNoGrad(ParamSet student, boolean gradient) {
        try (NDScope scope = new NDScope()) {
            for (int k = 0; k < segments.size(); k++) {
                int[] seg = segments.get(k);
                NDArray p = student.get(layout.name(seg[0]));
                NDArray src = gradient ? p.getGradient() : p;
                NDArray flat = src.reshape(-1); // a view when contiguous, else a copy: read-only here
                int off = layout.offset(seg[0]);
                DeviceCopy.copy(DeviceCopy.slice(flat, seg[1] - off, seg[2] - off), views.get(k)[gradient ? 1 : 0]);
            }
            scope.suppressNotUsedWarning();
        }
    }

    /**
     * Writes the master copy into {@code student}'s live parameter tensors, in place (a copy on the device). Every
     * parameter the shard touches must lie entirely inside it (one rank; several ranks go through the all-gather).
     */
    public void writeParameters(ParamSet student) {
        for (int[] seg : segments) {
            int i = seg[0];
            if (seg[1] != layout.offset(i) || seg[2] != layout.offset(i) + layout.length(i)) {
                throw new IllegalStateException("parameter " + layout.name(i) + " is cut by the shard [" + lo + ", "
                        + hi + "); write it from the all-gathered vector");
            }
        }
        DeviceCopy.withoutGrad(() -> {
            for (int k = 0; k < segments.size(); k++) {
                DeviceCopy.copy(views.get(k)[0], student.get(layout.name(segments.get(k)[0])));
            }
        });
    }

    /** Copies the master copy into {@code hostShard} ({@code hi − lo} floats of the staging the all-gather sends). */
    public void storeParameters(NDArray hostShard) {
        if (hi > lo) {
            DeviceCopy.copy(params, hostShard);
        }
    }

    /** Divides the shard's gradient by the number of ranks (sum → mean of the reduce-scatter). */
    public void divideGradients(int ranks) {
        if (ranks == 1 || hi == lo) {
            return;
        }
        table.putFloat(RANKS * 4, ranks);
        grads.divi(scalars[RANKS]);
    }

    /** Σ g² of the shard's gradient per submodule (index of {@link FlatLayout#submodules()}), in double. */
    public double[] sumSquares() {
        double[] out = new double[layout.submodules().size()];
        if (segments.isEmpty()) {
            return out;
        }
        try (NDScope scope = new NDScope()) {
            NDList sums = new NDList(segments.size());
            for (NDArray[] v : views) {
                NDArray g = v[1].toType(DataType.FLOAT64, true);
                sums.add(g.muli(g).sum());
            }
            double[] s = NDArrays.stack(sums).toDoubleArray(); // one transfer to the host
            for (int k = 0; k < s.length; k++) {
                out[layout.submoduleOf(segments.get(k)[0])] += s[k];
            }
            scope.suppressNotUsedWarning();
        }
        return out;
    }

    /**
     * One AdamW update of the shard, in place on the device, from the gradient the last load left.
     *
     * @param clipCoef    per submodule: the gradient is multiplied by it first when it is below 1
     * @param lr          lr schedule value
     * @param lastLayerLr last-layer lr schedule value
     * @param wd          weight-decay schedule value
     */
    public void step(double[] clipCoef, double lr, double lastLayerLr, double wd) {
        GradMode.offOnThisThread();
        step++;
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        table.putFloat(B1 * 4, (float) beta1);
        table.putFloat(ONE_MINUS_B1 * 4, (float) (1 - beta1));
        table.putFloat(B2 * 4, (float) beta2);
        table.putFloat(ONE_MINUS_B2 * 4, (float) (1 - beta2));
        table.putFloat(BC2 * 4, (float) bc2Sqrt);
        table.putFloat(EPS * 4, (float) eps);
        for (int k = 0; k < segments.size(); k++) {
            int i = segments.get(k)[0];
            ParamGroup g = layout.groupOf(i);
            double groupLr = (g.isLastLayer() ? lastLayerLr : lr) * g.lrMultiplier();
            double groupWd = wd * g.wdMultiplier();
            int at = (FIXED + 3 * k) * 4;
            table.putFloat(at, (float) (1 - groupLr * groupWd));
            table.putFloat(at + 4, (float) (groupLr / bc1));
            table.putFloat(at + 8, (float) clipCoef[layout.submoduleOf(i)]);
        }
        try (NDScope scope = new NDScope()) {
            for (int k = 0; k < segments.size(); k++) {
                NDArray[] v = views.get(k);
                NDArray p = v[0];
                NDArray grad = v[1];
                NDArray m = v[2];
                NDArray sq = v[3];
                int s = FIXED + 3 * k;
                if (clipCoef[layout.submoduleOf(segments.get(k)[0])] < 1.0) {
                    grad.muli(scalars[s + 2]);
                }
                p.muli(scalars[s]);
                m.muli(scalars[B1]).addi(grad.mul(scalars[ONE_MINUS_B1]));
                sq.muli(scalars[B2]).addi(grad.mul(grad).muli(scalars[ONE_MINUS_B2]));
                NDArray denom = sq.sqrt().divi(scalars[BC2]).addi(scalars[EPS]);
                p.subi(m.div(denom).muli(scalars[s + 1]));
            }
            scope.suppressNotUsedWarning();
        }
    }

    /** Frees the device tensors and the scalar table. */
    @Override
    public void close() {
        manager.close();
        host.close();
    }
}
