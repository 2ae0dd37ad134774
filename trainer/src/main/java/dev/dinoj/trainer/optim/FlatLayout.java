package dev.dinoj.trainer.optim;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.dinoj.trainer.collective.Partition;
import dev.dinoj.trainer.device.DeviceCopy;
import dev.dinoj.trainer.model.ParamSet;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * All student parameters as one flat float32 vector, in the official {@code state_dict} order: parameter {@code i}
 * occupies elements {@code [offset(i), offset(i) + length(i))}. Shards are contiguous ranges of this vector (they may
 * cut through a parameter); {@link #groupOf(int)} gives the optimiser settings of a parameter.
 *
 * <p>The vector itself lives in host memory only where it crosses Aeron ({@link HostStaging}); the optimiser keeps
 * its shard on the training device ({@link ShardedAdamW}).
 */
public final class FlatLayout {

    private final List<String> names;
    private final List<long[]> shapes;
    private final int[] offsets;
    private final List<ParamGroup> groups;
    private final List<String> submodules;
    private final int[] submoduleOf;

    private FlatLayout(List<String> names, List<long[]> shapes, int[] offsets, List<ParamGroup> groups) {
        this.names = List.copyOf(names);
        this.shapes = shapes;
        this.offsets = offsets;
        this.groups = List.copyOf(groups);
        List<String> subs = new ArrayList<>();
        this.submoduleOf = new int[names.size()];
        for (int i = 0; i < names.size(); i++) {
            String s = groups.get(i).submodule();
            if (!subs.contains(s)) {
                subs.add(s);
            }
            submoduleOf[i] = subs.indexOf(s);
        }
        this.submodules = List.copyOf(subs);
    }

    /** The layout of {@code params} with the optimiser groups {@code groups} (matched by name). */
    public static FlatLayout of(ParamSet params, List<ParamGroup> groups) {
        Map<String, ParamGroup> byName = new HashMap<>();
        for (ParamGroup g : groups) {
            byName.put(g.name(), g);
        }
        List<String> names = params.names();
        List<long[]> shapes = new ArrayList<>();
        List<ParamGroup> ordered = new ArrayList<>();
        int[] offsets = new int[names.size() + 1];
        long total = 0;
        for (int i = 0; i < names.size(); i++) {
            NDArray a = params.get(names.get(i));
            ParamGroup g = byName.get(names.get(i));
            if (g == null) {
                throw new IllegalArgumentException("no optimiser group for parameter " + names.get(i));
            }
            ordered.add(g);
            shapes.add(a.getShape().getShape());
            total += a.getShape().size();
            if (total > Integer.MAX_VALUE / 4) {
                throw new IllegalArgumentException("the flat layout holds at most " + Integer.MAX_VALUE / 4
                        + " parameters (one direct buffer); this model has more");
            }
            offsets[i + 1] = (int) total;
        }
        return new FlatLayout(names, shapes, offsets, ordered);
    }

    /** Parameters (not elements). */
    public int count() {
        return names.size();
    }

    /** Elements of the whole vector. */
    public int total() {
        return offsets[offsets.length - 1];
    }

    public String name(int i) {
        return names.get(i);
    }

    public List<String> names() {
        return names;
    }

    public long[] shape(int i) {
        return shapes.get(i).clone();
    }

    public int offset(int i) {
        return offsets[i];
    }

    public int length(int i) {
        return offsets[i + 1] - offsets[i];
    }

    public ParamGroup groupOf(int i) {
        return groups.get(i);
    }

    /** Clipping units in first-appearance order ({@code backbone}, {@code dino_head}, {@code ibot_head}). */
    public List<String> submodules() {
        return submodules;
    }

    /** Index into {@link #submodules()} of parameter {@code i}. */
    public int submoduleOf(int i) {
        return submoduleOf[i];
    }

    /** The parameter holding element {@code element} (the first of several when some are empty). */
    public int paramAt(int element) {
        int i = Arrays.binarySearch(offsets, element);
        if (i >= 0) {
            while (i < names.size() - 1 && offsets[i + 1] == element) {
                i++; // skip empty parameters
            }
            return Math.min(i, names.size() - 1);
        }
        return -i - 2;
    }

    /** {@code worldSize} nearly equal contiguous shards. */
    public Partition shards(int worldSize) {
        return Partition.even(total(), worldSize);
    }

    /** A direct, native-order buffer for the whole vector. */
    public ByteBuffer allocate() {
        return ByteBuffer.allocateDirect(total() * 4).order(ByteOrder.nativeOrder());
    }

    /** Checks that a checkpoint's names and shapes are this layout's. */
    public void requireSame(List<String> otherNames, List<long[]> otherShapes, String source) {
        if (!names.equals(otherNames)) {
            throw new IllegalArgumentException(source + ": parameter names differ from the model's ("
                    + otherNames.size() + " vs " + names.size() + " parameters)");
        }
        for (int i = 0; i < names.size(); i++) {
            if (!Arrays.equals(shapes.get(i), otherShapes.get(i))) {
                throw new IllegalArgumentException(source + ": parameter " + names.get(i) + " has shape "
                        + Arrays.toString(otherShapes.get(i)) + " but the model has " + Arrays.toString(shapes.get(i)));
            }
        }
    }

    /** Elements {@code [lo, hi)} of the flat vector of {@code params} (host copies of device tensors). */
    public float[] readRange(ParamSet params, int lo, int hi) {
        float[] out = new float[hi - lo];
        if (hi <= lo) {
            return out;
        }
        for (int i = paramAt(lo); i < count() && offset(i) < hi; i++) {
            int start = Math.max(lo, offset(i));
            int end = Math.min(hi, offset(i) + length(i));
            if (end > start) {
                float[] all = DeviceCopy.toHostFloats(params.get(name(i)));
                System.arraycopy(all, start - offset(i), out, start - lo, end - start);
            }
        }
        return out;
    }

    /** Overwrites every parameter of {@code params} in place (on its device) from a full flat vector. */
    public void writeFull(float[] full, ParamSet params) {
        if (full.length != total()) {
            throw new IllegalArgumentException(full.length + " elements for a layout of " + total());
        }
        DeviceCopy.withoutGrad(() -> {
            try (NDManager host = NDManager.newBaseManager(Device.cpu())) {
                for (int i = 0; i < count(); i++) {
                    if (length(i) == 0) {
                        continue;
                    }
                    float[] part = Arrays.copyOfRange(full, offset(i), offset(i) + length(i));
                    try (NDArray h = host.create(part, new Shape(shape(i)))) {
                        DeviceCopy.copy(h, params.get(name(i)));
                    }
                }
            }
        });
    }
}
