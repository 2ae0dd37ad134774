package dev.dinoj.trainer.collective;

import dev.dinoj.trainer.collective.transport.Kernels;

/** Element-wise reduction of the small all-reduce. */
public enum ReduceOp {
    SUM(Kernels.OP_SUM),
    MAX(Kernels.OP_MAX),
    MIN(Kernels.OP_MIN);

    private final byte code;

    ReduceOp(byte code) {
        this.code = code;
    }

    /** The {@link Kernels} op code. */
    byte code() {
        return code;
    }
}
