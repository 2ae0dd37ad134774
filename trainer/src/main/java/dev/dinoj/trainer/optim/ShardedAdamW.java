package dev.dinoj.trainer.optim;

import java.util.ArrayList;
import java.util.List;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * AdamW on one contiguous shard {@code [lo, hi)} of the flat parameter vector: the moments exist only for the shard
 * (memory ∝ 1/N). The arithmetic is {@link dev.dinoj.trainer.optim.AdamW}'s ({@code torch.optim.AdamW}) element by
 * element in float32: decoupled weight decay {@code p ← p·(1 − lr·wd)}, {@code m ← β1·m + (1 − β1)·g},
 * {@code v ← β2·v + (1 − β2)·g²}, {@code p ← p − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)}, with the lr and weight
 * decay multipliers and the last-layer schedule of each parameter's {@link ParamGroup}. Gradient clipping is folded
 * in as a per-submodule coefficient.
 */
public final class ShardedAdamW {

    private final FlatLayout layout;
    private final int lo;
    private final int hi;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final float[] expAvg;
    private final float[] expAvgSq;
    private final List<int[]> segments = new ArrayList<>(); // {param, start, end} in global elements
    private long step;

    public ShardedAdamW(FlatLayout layout, int lo, int hi, double beta1, double beta2, double eps) {
        if (lo < 0 || hi < lo || hi > layout.total()) {
            throw new IllegalArgumentException("shard [" + lo + ", " + hi + ") outside [0, " + layout.total() + ")");
        }
        this.layout = layout;
        this.lo = lo;
        this.hi = hi;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.expAvg = new float[hi - lo];
        this.expAvgSq = new float[hi - lo];
        if (hi > lo) {
            for (int i = layout.paramAt(lo); i < layout.count() && layout.offset(i) < hi; i++) {
                int start = Math.max(lo, layout.offset(i));
                int end = Math.min(hi, layout.offset(i) + layout.length(i));
                if (end > start) {
                    segments.add(new int[] {i, start, end});
                }
            }
        }
    }

    public int lo() {
        return lo;
    }

    public int hi() {
        return hi;
    }

    /** Optimiser steps taken so far. */
    public long stepCount() {
        return step;
    }

    /** First moments of the shard (live array, element {@code k} is global element {@code lo + k}). */
    public float[] expAvg() {
        return expAvg;
    }

    /** Second moments of the shard (live array). */
    public float[] expAvgSq() {
        return expAvgSq;
    }

    /** Restores moments for this shard and the step count. */
    public void restore(float[] m, float[] v, long stepCount) {
        if (m.length != expAvg.length || v.length != expAvgSq.length) {
            throw new IllegalArgumentException(
                    "moments of " + m.length + "/" + v.length + " elements for a shard of " + expAvg.length);
        }
        System.arraycopy(m, 0, expAvg, 0, m.length);
        System.arraycopy(v, 0, expAvgSq, 0, v.length);
        this.step = stepCount;
    }

    /** Σ g² of the shard's gradient per submodule (index of {@link FlatLayout#submodules()}), in double. */
    public double[] sumSquares(UnsafeBuffer grads) {
        double[] out = new double[layout.submodules().size()];
        for (int[] seg : segments) {
            double s = 0;
            for (int e = seg[1]; e < seg[2]; e++) {
                float g = grads.getFloat(e << 2);
                s += (double) g * g;
            }
            out[layout.submoduleOf(seg[0])] += s;
        }
        return out;
    }

    /**
     * One AdamW update of the shard of {@code params} from the shard of {@code grads}.
     *
     * @param clipCoef    per submodule: the gradient is multiplied by it first when it is below 1
     * @param lr          lr schedule value
     * @param lastLayerLr last-layer lr schedule value
     * @param wd          weight-decay schedule value
     */
    public void step(
            UnsafeBuffer grads, UnsafeBuffer params, double[] clipCoef, double lr, double lastLayerLr, double wd) {
        step++;
        double bc1 = 1 - Math.pow(beta1, step);
        double bc2Sqrt = Math.sqrt(1 - Math.pow(beta2, step));
        float b1 = (float) beta1;
        float oneMinusB1 = (float) (1 - beta1);
        float b2 = (float) beta2;
        float oneMinusB2 = (float) (1 - beta2);
        float bc2 = (float) bc2Sqrt;
        float epsF = (float) eps;
        for (int[] seg : segments) {
            ParamGroup g = layout.groupOf(seg[0]);
            double groupLr = (g.isLastLayer() ? lastLayerLr : lr) * g.lrMultiplier();
            double groupWd = wd * g.wdMultiplier();
            float decay = (float) (1 - groupLr * groupWd);
            float stepSize = (float) (groupLr / bc1);
            double coef = clipCoef[layout.submoduleOf(seg[0])];
            boolean clip = coef < 1.0;
            float c = (float) coef;
            for (int e = seg[1]; e < seg[2]; e++) {
                int at = e << 2;
                int k = e - lo;
                float grad = grads.getFloat(at);
                if (clip) {
                    grad = grad * c;
                }
                float p = params.getFloat(at) * decay;
                float m = expAvg[k] * b1 + grad * oneMinusB1;
                float v = expAvgSq[k] * b2 + grad * grad * oneMinusB2;
                expAvg[k] = m;
                expAvgSq[k] = v;
                float denom = (float) Math.sqrt(v) / bc2 + epsF;
                params.putFloat(at, p - m / denom * stepSize);
            }
        }
    }
}
