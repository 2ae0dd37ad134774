package dev.dinoj.trainer.train.sharded;

import ai.djl.ndarray.NDArray;
import dev.dinoj.trainer.collective.Communicator;
import dev.dinoj.trainer.collective.ReduceOp;
import dev.dinoj.trainer.loss.GlobalSum;

/**
 * {@link GlobalSum} over the ranks of a {@link Communicator}: the Sinkhorn-Knopp totals and row sums, sample counts
 * and softmax-center statistics become sums over the global batch. Uses the small (all-to-all) all-reduce in float64,
 * reduced in rank order, so every rank gets bitwise the same statistics.
 */
public final class AllReduceGlobalSum implements GlobalSum {

    private final Communicator comm;
    private long blockedNanos;

    public AllReduceGlobalSum(Communicator comm) {
        this.comm = comm;
    }

    /** Time spent in the all-reduces so far (the step thread is blocked there), in nanoseconds. */
    public long blockedNanos() {
        return blockedNanos;
    }

    @Override
    public NDArray sum(NDArray local) {
        float[] v = local.toFloatArray();
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        long t0 = System.nanoTime();
        comm.allReduce(d, ReduceOp.SUM);
        blockedNanos += System.nanoTime() - t0;
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) d[i];
        }
        return local.getManager().create(out, local.getShape());
    }

    @Override
    public double sum(double local) {
        double[] d = {local};
        long t0 = System.nanoTime();
        comm.allReduce(d, ReduceOp.SUM);
        blockedNanos += System.nanoTime() - t0;
        return d[0];
    }
}
