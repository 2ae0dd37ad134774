package dev.dinoj.trainer.collective.sharded;

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

    public AllReduceGlobalSum(Communicator comm) {
        this.comm = comm;
    }

    @Override
    public NDArray sum(NDArray local) {
        float[] v = local.toFloatArray();
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            d[i] = v[i];
        }
        comm.allReduce(d, ReduceOp.SUM);
        float[] out = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (float) d[i];
        }
        return local.getManager().create(out, local.getShape());
    }

    @Override
    public double sum(double local) {
        double[] d = {local};
        comm.allReduce(d, ReduceOp.SUM);
        return d[0];
    }
}
