package dev.dinoj.trainer.collective;

import java.util.Arrays;

/**
 * Contiguous blocks of a vector, one per rank: block {@code r} is elements {@code [offset(r), offset(r + 1))}.
 * Reduce-scatter leaves the sum of block {@code r} on rank {@code r}; all-gather sends block {@code r} of rank
 * {@code r} to everyone. Blocks may be empty.
 */
public final class Partition {

    private final int[] offsets;

    private Partition(int[] offsets) {
        this.offsets = offsets;
    }

    /** Blocks from explicit boundaries {@code offsets[0] = 0 ≤ offsets[1] ≤ … ≤ offsets[n]}. */
    public static Partition of(int... offsets) {
        if (offsets.length < 2 || offsets[0] != 0) {
            throw new IllegalArgumentException(
                    "a partition needs offsets 0 = o0 <= o1 <= ... <= on: " + Arrays.toString(offsets));
        }
        for (int i = 1; i < offsets.length; i++) {
            if (offsets[i] < offsets[i - 1]) {
                throw new IllegalArgumentException("partition offsets must not decrease: " + Arrays.toString(offsets));
            }
        }
        return new Partition(offsets.clone());
    }

    /**
     * {@code count} elements in {@code blocks} nearly equal blocks (the first {@code count % blocks} get one more),
     * the layout of the sharded optimiser.
     */
    public static Partition even(int count, int blocks) {
        if (count < 0 || blocks < 1) {
            throw new IllegalArgumentException("count >= 0 and blocks >= 1 needed: " + count + ", " + blocks);
        }
        int[] o = new int[blocks + 1];
        int base = count / blocks;
        int extra = count % blocks;
        for (int r = 0; r < blocks; r++) {
            o[r + 1] = o[r] + base + (r < extra ? 1 : 0);
        }
        return new Partition(o);
    }

    public int blocks() {
        return offsets.length - 1;
    }

    /** Elements in all blocks. */
    public int total() {
        return offsets[offsets.length - 1];
    }

    public int offset(int block) {
        return offsets[block];
    }

    public int length(int block) {
        return offsets[block + 1] - offsets[block];
    }

    public int end(int block) {
        return offsets[block + 1];
    }

    /** The boundaries (a copy). */
    public int[] offsets() {
        return offsets.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Partition p && Arrays.equals(offsets, p.offsets);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(offsets);
    }

    @Override
    public String toString() {
        return "Partition" + Arrays.toString(offsets);
    }
}
