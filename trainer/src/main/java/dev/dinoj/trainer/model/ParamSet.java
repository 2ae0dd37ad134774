package dev.dinoj.trainer.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.dinoj.trainer.io.NpyArray;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Named float32 parameters in the official dinov2 {@code state_dict} order and names
 * ({@code backbone.blocks.0.attn.qkv.weight}, {@code dino_head.last_layer.weight_v}, …).
 *
 * <p>All arrays belong to this set's own {@link NDManager}; closing the set frees them.
 */
public final class ParamSet implements AutoCloseable {

    private final NDManager manager;
    private final LinkedHashMap<String, NDArray> params = new LinkedHashMap<>();

    public ParamSet(NDManager parent) {
        this.manager = parent.newSubManager();
    }

    public NDManager manager() {
        return manager;
    }

    /** Adds a parameter from host data (copied into native memory). */
    public NDArray put(String name, float[] data, long... shape) {
        if (params.containsKey(name)) {
            throw new IllegalArgumentException("duplicate parameter " + name);
        }
        NDArray a = manager.create(data, new Shape(shape));
        a.setName(name);
        NDScope.unregister(a); // parameters outlive any step scope
        params.put(name, a);
        return a;
    }

    public NDArray get(String name) {
        NDArray a = params.get(name);
        if (a == null) {
            throw new IllegalArgumentException("no parameter " + name + " (have " + params.size() + " parameters)");
        }
        return a;
    }

    public boolean contains(String name) {
        return params.containsKey(name);
    }

    public List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(params.keySet()));
    }

    public Map<String, NDArray> asMap() {
        return Collections.unmodifiableMap(params);
    }

    public int size() {
        return params.size();
    }

    /** Total number of scalar parameters. */
    public long numel() {
        long n = 0;
        for (NDArray a : params.values()) {
            n += a.getShape().size();
        }
        return n;
    }

    /** Marks every parameter as requiring a gradient (student). */
    public void attachGradients() {
        for (NDArray a : params.values()) {
            a.setRequiresGradient(true);
        }
    }

    /** Sets every accumulated gradient to zero (gradients accumulate across backward passes). */
    public void zeroGradients() {
        for (NDArray a : params.values()) {
            try (NDArray g = a.getGradient()) {
                Scalars.muli(g, 0);
            }
        }
    }

    /** A deep copy with the same names, without gradients (the teacher starts as a copy of the student). */
    public ParamSet copy(NDManager parent) {
        ParamSet out = new ParamSet(parent);
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            out.put(
                    e.getKey(),
                    e.getValue().toFloatArray(),
                    e.getValue().getShape().getShape());
        }
        return out;
    }

    /** Overwrites values in place from another set with the same names and shapes. */
    public void copyFrom(ParamSet other) {
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            NDArray src = other.get(e.getKey());
            e.getValue().set(src.toFloatArray());
        }
    }

    /** Overwrites values in place from host arrays (checkpoint / npz); every parameter must be present. */
    public void load(Map<String, NpyArray> arrays, String source) {
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            NpyArray src = arrays.get(e.getKey());
            if (src == null) {
                throw new IllegalArgumentException(source + ": missing parameter " + e.getKey());
            }
            long[] want = e.getValue().getShape().getShape();
            if (!Arrays.equals(want, src.shape())) {
                throw new IllegalArgumentException(source + ": parameter " + e.getKey() + " has shape "
                        + Arrays.toString(src.shape()) + " but the model expects " + Arrays.toString(want));
            }
            e.getValue().set(src.asFloats());
        }
    }

    /** Host copies of every parameter (for checkpoints and export). */
    public LinkedHashMap<String, NpyArray> toHost() {
        LinkedHashMap<String, NpyArray> out = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            NDArray a = e.getValue();
            float[] data = a.getDataType() == DataType.FLOAT32
                    ? a.toFloatArray()
                    : a.toType(DataType.FLOAT32, false).toFloatArray();
            out.put(e.getKey(), NpyArray.ofFloats(e.getKey(), a.getShape().getShape(), data));
        }
        return out;
    }

    @Override
    public void close() {
        manager.close();
    }
}
