package dev.dinoj.pipeline.search;

import java.util.Arrays;

/**
 * The best {@code k} neighbours of each query over blocks of a database searched one after the other: each block's
 * own top {@code k} ({@link Neighbors}, ids local to the block) is merged into the running top {@code k}, higher score
 * first, then lower id. Over blocks in ascending id order this is the exact top {@code k} of the whole database.
 */
public final class RunningTopK {
    private final int queries;
    private final int k;
    private final int[] ids;
    private final float[] scores;
    private final int[] mergedIds;
    private final float[] mergedScores;

    public RunningTopK(int queries, int k) {
        this.queries = queries;
        this.k = k;
        this.ids = new int[queries * k];
        this.scores = new float[queries * k];
        this.mergedIds = new int[k];
        this.mergedScores = new float[k];
        Arrays.fill(ids, -1);
        Arrays.fill(scores, Float.NEGATIVE_INFINITY);
    }

    /** Merges a block's neighbours {@code nb} (same queries, at most {@code k} per query), whose id 0 is {@code first}. */
    public void merge(Neighbors nb, long first) {
        int kb = nb.k();
        for (int q = 0; q < queries; q++) {
            int a = 0;
            int b = 0;
            for (int t = 0; t < k; t++) {
                boolean haveA = a < k && ids[q * k + a] >= 0;
                boolean haveB = b < kb && nb.id(q, b) >= 0;
                if (!haveA && !haveB) {
                    mergedIds[t] = -1;
                    mergedScores[t] = Float.NEGATIVE_INFINITY;
                    continue;
                }
                int idB = haveB ? Math.toIntExact(first + nb.id(q, b)) : -1;
                boolean takeA = haveA
                        && (!haveB
                                || scores[q * k + a] > nb.score(q, b)
                                || (scores[q * k + a] == nb.score(q, b) && ids[q * k + a] < idB));
                if (takeA) {
                    mergedIds[t] = ids[q * k + a];
                    mergedScores[t] = scores[q * k + a];
                    a++;
                } else {
                    mergedIds[t] = idB;
                    mergedScores[t] = nb.score(q, b);
                    b++;
                }
            }
            System.arraycopy(mergedIds, 0, ids, q * k, k);
            System.arraycopy(mergedScores, 0, scores, q * k, k);
        }
    }

    /** The running top {@code k} (ids -1 and scores −∞ where fewer were seen). */
    public Neighbors result() {
        return new Neighbors(queries, k, ids.clone(), scores.clone());
    }
}
