package dev.dinoj.trainer.loss;

import ai.djl.ndarray.NDArray;

/**
 * Sums a statistic over all training ranks (an all-reduce); {@link #LOCAL} for one process. Sinkhorn-Knopp and the
 * softmax centers use it so that N ranks with batch B/N compute what one rank with batch B computes.
 */
public interface GlobalSum {

    /** Single process: the local value is the global value. */
    GlobalSum LOCAL = new GlobalSum() {
        @Override
        public NDArray sum(NDArray local) {
            return local;
        }

        @Override
        public double sum(double local) {
            return local;
        }
    };

    /** Element-wise sum over ranks; may return {@code local} updated in place. */
    NDArray sum(NDArray local);

    double sum(double local);
}
