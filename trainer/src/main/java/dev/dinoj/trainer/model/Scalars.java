package dev.dinoj.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import java.util.function.BinaryOperator;

/**
 * Arithmetic with a scalar that is safe under autograd. Use these instead of DJL's {@code NDArray.mul(Number)},
 * {@code div(Number)}, {@code maximum(Number)}, … in anything a backward pass runs through.
 *
 * <p><b>Why.</b> DJL's PyTorch engine implements the {@code Number} overloads as
 * {@code try (NDArray s = manager.create(n)) { return op(s); }}, and {@code create} wraps a Java direct
 * {@code ByteBuffer} with {@code torch::from_blob}: the tensor does not own its memory, the {@code PtNDArray} only
 * keeps the buffer reachable, and {@code close()} drops that reference. Ops such as {@code mul}, {@code div},
 * {@code maximum} and {@code pow} save their scalar operand for the backward pass, so the autograd graph keeps a
 * tensor whose memory the JVM frees at the next GC (the buffer's cleaner), and the backward reads whatever
 * {@code malloc} put there since: wrong or NaN gradients, depending on GC timing, hence on load. Here the scalar is a
 * PyTorch-owned copy (same data type as DJL's overload, so results are bitwise the same as with it), which the
 * graph keeps alive by reference count.
 */
public final class Scalars {

    private Scalars() {}

    /**
     * A 0-dimensional array holding {@code v} in memory owned by PyTorch, of the data type DJL's {@code Number}
     * overloads use ({@code Float} → float32, {@code Double} → float64, {@code Integer} → int32, …).
     */
    public static NDArray of(NDManager manager, Number v) {
        try (NDArray blob = manager.create(v)) {
            return blob.duplicate(); // torch clone: owned storage
        }
    }

    public static NDArray mul(NDArray x, Number v) {
        return apply(x, v, NDArray::mul);
    }

    /** In place ({@code x.muli(v)}); in-place ops are never recorded for a backward pass, kept for uniformity. */
    public static NDArray muli(NDArray x, Number v) {
        return apply(x, v, NDArray::muli);
    }

    public static NDArray div(NDArray x, Number v) {
        return apply(x, v, NDArray::div);
    }

    public static NDArray add(NDArray x, Number v) {
        return apply(x, v, NDArray::add);
    }

    public static NDArray sub(NDArray x, Number v) {
        return apply(x, v, NDArray::sub);
    }

    public static NDArray maximum(NDArray x, Number v) {
        return apply(x, v, NDArray::maximum);
    }

    public static NDArray pow(NDArray x, Number v) {
        return apply(x, v, NDArray::pow);
    }

    /** {@code op(x, v)} with {@code v} as a PyTorch-owned 0-d array, released once the op holds its own reference. */
    private static NDArray apply(NDArray x, Number v, BinaryOperator<NDArray> op) {
        try (NDArray s = of(x.getManager(), v)) {
            return op.apply(x, s);
        }
    }
}
