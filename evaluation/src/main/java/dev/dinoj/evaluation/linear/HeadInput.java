package dev.dinoj.evaluation.linear;

import java.util.ArrayList;
import java.util.List;

/**
 * What one group of probe heads reads: the contiguous slice {@code [offset, offset + length)} of each feature row.
 *
 * @param blocks the number of last blocks whose CLS tokens are in the slice (0 when not block features)
 * @param avgpool whether the mean patch token is in the slice
 * @param offset first feature column
 * @param length number of columns
 */
public record HeadInput(int blocks, boolean avgpool, int offset, int length) {

    /**
     * Validates the slice.
     *
     * @param blocks last blocks in the slice
     * @param avgpool whether the mean patch token is in it
     * @param offset first column
     * @param length number of columns
     */
    public HeadInput {
        if (offset < 0 || length < 1) {
            throw new IllegalArgumentException("bad slice: offset " + offset + ", length " + length);
        }
    }

    /**
     * The four inputs of {@code linear.py} ({@code n_last_blocks_list = [1, 4]} × avgpool {@code [False, True]})
     * over {@link dev.dinoj.evaluation.features.FeatureKind#LAST_BLOCKS} rows {@code [cls_{L−n+1} … cls_L, avg_L]}.
     * With fewer than 4 blocks the "4" becomes {@code n}; with {@code n = 1} there are two inputs.
     *
     * @param n the blocks in the feature rows ({@code min(4, depth)})
     * @param dim the backbone width D
     * @return the inputs, in the official order
     */
    public static List<HeadInput> lastBlocks(int n, int dim) {
        List<HeadInput> out = new ArrayList<>(4);
        int[] blockCounts = n == 1 ? new int[] {1} : new int[] {1, n};
        for (int blocks : blockCounts) {
            for (boolean avg : new boolean[] {false, true}) {
                int offset = (n - blocks) * dim;
                out.add(new HeadInput(blocks, avg, offset, (blocks + (avg ? 1 : 0)) * dim));
            }
        }
        return out;
    }

    /**
     * One input covering whole rows of any feature (e.g. CLS, or pixels).
     *
     * @param dim the feature dimension
     * @return the input
     */
    public static HeadInput whole(int dim) {
        return new HeadInput(0, false, 0, dim);
    }

    /** @return the official name stem, e.g. {@code 4_blocks_avgpool_True}, or {@code features} for whole rows */
    public String stem() {
        return blocks == 0 ? "features" : blocks + "_blocks_avgpool_" + (avgpool ? "True" : "False");
    }
}
