package dev.dinoj.trainer.io;

import java.util.Arrays;

/**
 * One array of a NumPy {@code .npy}/{@code .npz} file, held on the Java heap in its own element type.
 *
 * <p>Exactly one of {@code floats}, {@code longs}, {@code bools} is non-null, chosen by {@code dtype}:
 * {@code f4}/{@code f8} → floats (f8 narrowed to float32), {@code i8}/{@code i4}/{@code u1}... → longs, {@code b1} → bools.
 */
public record NpyArray(String name, String dtype, long[] shape, float[] floats, long[] longs, boolean[] bools) {

    public NpyArray {
        int set = (floats != null ? 1 : 0) + (longs != null ? 1 : 0) + (bools != null ? 1 : 0);
        if (set != 1) {
            throw new IllegalArgumentException("exactly one data array must be set for " + name);
        }
        long n = numel(shape);
        long len = floats != null ? floats.length : longs != null ? longs.length : bools.length;
        if (n != len) {
            throw new IllegalArgumentException(
                    name + ": shape " + Arrays.toString(shape) + " holds " + n + " elements but data has " + len);
        }
    }

    public static NpyArray ofFloats(String name, long[] shape, float[] data) {
        return new NpyArray(name, "<f4", shape, data, null, null);
    }

    public static long numel(long[] shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        return n;
    }

    public long numel() {
        return numel(shape);
    }

    /** Data as float32 whatever the stored type (bools become 0/1). */
    public float[] asFloats() {
        if (floats != null) {
            return floats;
        }
        int n = (int) numel();
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = longs != null ? longs[i] : (bools[i] ? 1f : 0f);
        }
        return out;
    }

    /** Data as int64 (floats are truncated, bools become 0/1). */
    public long[] asLongs() {
        if (longs != null) {
            return longs;
        }
        int n = (int) numel();
        long[] out = new long[n];
        for (int i = 0; i < n; i++) {
            out[i] = floats != null ? (long) floats[i] : (bools[i] ? 1 : 0);
        }
        return out;
    }

    public boolean[] asBools() {
        if (bools != null) {
            return bools;
        }
        int n = (int) numel();
        boolean[] out = new boolean[n];
        for (int i = 0; i < n; i++) {
            out[i] = floats != null ? floats[i] != 0 : longs[i] != 0;
        }
        return out;
    }

    /** The single value of a 0-d or 1-element array. */
    public double scalar() {
        if (numel() != 1) {
            throw new IllegalStateException(name + " is not a scalar: shape " + Arrays.toString(shape));
        }
        return floats != null ? floats[0] : longs != null ? longs[0] : (bools[0] ? 1 : 0);
    }
}
