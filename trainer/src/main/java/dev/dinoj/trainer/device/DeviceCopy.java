package dev.dinoj.trainer.device;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * In-place copies between tensors on any devices, into the storage the destination already has: PyTorch's
 * {@code dst[...] = src} ({@code copy_}), which moves the data between host and GPU when the two differ and honours
 * the destination's strides. This is how the sharded step writes parameters back into the live (device) tensors and
 * fills host staging memory for Aeron — never through {@code NDArray.toByteBuffer}, whose "direct view" of a GPU (or
 * non-contiguous) tensor is a temporary host copy, so writes through it are silently lost.
 */
public final class DeviceCopy {

    private DeviceCopy() {}

    /**
     * Copies {@code src}'s elements (row-major order) into {@code dst} in place; both must hold the same number of
     * elements. Autograd must be off on the calling thread when {@code dst} is a parameter that requires a gradient.
     */
    public static void copy(NDArray src, NDArray dst) {
        Shape shape = dst.getShape();
        if (src.size() != dst.size()) {
            throw new IllegalArgumentException(
                    "copy of " + src.size() + " elements " + src.getShape() + " into " + dst.size() + " " + shape);
        }
        if (shape.dimension() == 0) {
            try (NDArray d = dst.reshape(1);
                    NDArray s = src.reshape(1)) {
                put(s, d, new long[] {1});
            }
            return;
        }
        if (src.getShape().equals(shape)) {
            put(src, dst, shape.getShape());
        } else {
            try (NDArray s = src.reshape(shape)) {
                put(s, dst, shape.getShape());
            }
        }
    }

    private static void put(NDArray src, NDArray dst, long[] shape) {
        long[] min = new long[shape.length];
        long[] step = new long[shape.length];
        java.util.Arrays.fill(step, 1);
        JniUtils.indexSet((PtNDArray) dst, (PtNDArray) src, min, shape, step);
    }

    /**
     * A float32 CPU array whose storage is {@code length} floats of {@code buffer} from element {@code offset} (no
     * copy: writes into the array land in the buffer and the other way round). The buffer must be direct; it stays
     * reachable as long as the array.
     */
    public static NDArray hostAlias(NDManager cpuManager, ByteBuffer buffer, int offset, int length, Shape shape) {
        if (!buffer.isDirect()) {
            throw new IllegalArgumentException("host staging must be a direct buffer");
        }
        if (shape.size() != length) {
            throw new IllegalArgumentException("shape " + shape + " for " + length + " elements");
        }
        if (!cpuManager.getDevice().equals(ai.djl.Device.cpu())) {
            throw new IllegalArgumentException("host staging needs a CPU manager, not " + cpuManager.getDevice());
        }
        ByteBuffer slice = buffer.duplicate()
                .position(offset * 4)
                .limit(offset * 4 + length * 4)
                .slice()
                .order(ByteOrder.nativeOrder());
        return cpuManager.create(slice, shape, DataType.FLOAT32);
    }

    /** Elements {@code [from, to)} of a 1-D array, as a view (same storage, same device). */
    public static NDArray slice(NDArray flat, long from, long to) {
        PtNDArray a = (PtNDArray) flat;
        return JniUtils.index(a, new long[] {from}, new long[] {to}, new long[] {1}, a.getManager());
    }

    /** Element {@code k} of a 1-D array as a 0-dimensional view (same storage). */
    public static NDArray element(NDArray flat, long k) {
        try (PtNDArray one = (PtNDArray) slice(flat, k, k + 1)) {
            return JniUtils.squeeze(one, 0);
        }
    }

    /** The elements of a float32 array of any device as a host array (a temporary host copy for a device array). */
    public static float[] toHostFloats(NDArray a) {
        if (a.getDevice().equals(ai.djl.Device.cpu())) {
            return a.toFloatArray();
        }
        try (NDArray h = a.toDevice(ai.djl.Device.cpu(), true)) {
            return h.toFloatArray();
        }
    }

    /**
     * Runs {@code body} with autograd recording off on this thread and restores the thread's mode after (copies into
     * parameters must not be recorded; a copy made from inside a backward pass must not switch recording off for the
     * rest of it).
     */
    public static void withoutGrad(Runnable body) {
        boolean was = JniUtils.isGradMode();
        if (was) {
            JniUtils.setGradMode(false);
        }
        try {
            body.run();
        } finally {
            if (was) {
                JniUtils.setGradMode(true);
            }
        }
    }
}
