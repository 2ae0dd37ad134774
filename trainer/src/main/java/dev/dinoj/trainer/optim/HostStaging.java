package dev.dinoj.trainer.optim;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.dinoj.trainer.device.DeviceCopy;
import dev.dinoj.trainer.model.ParamSet;
import java.nio.ByteBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Host staging for what crosses Aeron: the whole flat vector ({@link FlatLayout}) in one direct, native-order buffer
 * that the collectives send from and receive into, allocated once, and float32 CPU arrays aliasing it (one per
 * parameter, one per shard range asked for) so that device tensors are copied in and out with
 * {@link DeviceCopy#copy} — a device↔host transfer on a GPU, a memcpy on the CPU — and nothing is allocated per step.
 * A bucket of the overlapped reduce-scatter is a contiguous range of parameters, so its staging is the aliases of those
 * parameters.
 */
public final class HostStaging implements AutoCloseable {

    private final FlatLayout layout;
    private final ByteBuffer buffer;
    private final UnsafeBuffer unsafe;
    private final NDManager cpu;
    private final NDArray[] aliases; // per parameter, its shape; null for an empty parameter

    /**
     * Allocates the vector ({@code 4 × layout.total()} bytes) and its per-parameter aliases, in a CPU sub-manager of
     * {@code parent} (freed by {@link #close()} or with the parent).
     */
    public HostStaging(FlatLayout layout, NDManager parent) {
        this.layout = layout;
        this.buffer = layout.allocate();
        this.unsafe = new UnsafeBuffer(buffer);
        this.cpu = parent.newSubManager(Device.cpu());
        this.aliases = new NDArray[layout.count()];
        for (int i = 0; i < layout.count(); i++) {
            if (layout.length(i) > 0) {
                aliases[i] = DeviceCopy.hostAlias(
                        cpu, buffer, layout.offset(i), layout.length(i), new Shape(layout.shape(i)));
            }
        }
    }

    /** The vector as the collectives take it. */
    public ByteBuffer buffer() {
        return buffer;
    }

    /** The same memory for element access ({@code getFloat(e << 2)}). */
    public UnsafeBuffer unsafe() {
        return unsafe;
    }

    /** A 1-D CPU array over elements {@code [lo, hi)} (no copy; the caller keeps it for reuse). */
    public NDArray range(int lo, int hi) {
        return DeviceCopy.hostAlias(cpu, buffer, lo, hi - lo, new Shape(hi - lo));
    }

    /** Copies the gradients of parameters {@code [from, to)} into the vector (device → host). */
    public void readGradients(ParamSet params, int from, int to) {
        DeviceCopy.withoutGrad(
                () -> { // called from inside the segmented backward: restores recording after
                    for (int i = from; i < to; i++) {
                        if (aliases[i] != null) {
                            try (NDArray g = params.get(layout.name(i)).getGradient()) {
                                DeviceCopy.copy(g, aliases[i]);
                            }
                        }
                    }
                });
    }

    /** Copies every parameter's value into the vector (device → host). */
    public void readValues(ParamSet params) {
        DeviceCopy.withoutGrad(() -> {
            for (int i = 0; i < layout.count(); i++) {
                if (aliases[i] != null) {
                    DeviceCopy.copy(params.get(layout.name(i)), aliases[i]);
                }
            }
        });
    }

    /** Overwrites every parameter's live tensor in place from the vector (host → device). */
    public void writeValues(ParamSet params) {
        DeviceCopy.withoutGrad(() -> {
            for (int i = 0; i < layout.count(); i++) {
                if (aliases[i] != null) {
                    DeviceCopy.copy(aliases[i], params.get(layout.name(i)));
                }
            }
        });
    }

    /** Frees the aliases (the buffer goes with the last reference to it). */
    @Override
    public void close() {
        cpu.close();
    }
}
