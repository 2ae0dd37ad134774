package dev.dinoj.pipeline.search;

import java.util.Arrays;

/**
 * The k nearest neighbours of each query, most similar first.
 *
 * @param queries number of queries
 * @param k       neighbours per query
 * @param ids     {@code [queries, k]} row ids of the base, -1 where fewer than k exist
 * @param scores  {@code [queries, k]} inner products, {@code -inf} where the id is -1
 */
public record Neighbors(int queries, int k, int[] ids, float[] scores) {
    public Neighbors {
        if (ids.length != queries * k || scores.length != queries * k) {
            throw new IllegalArgumentException("need " + queries + "x" + k + " ids and scores");
        }
    }

    /** Empty result lists (ids -1, scores −∞) to be filled by a search. */
    static Neighbors empty(int queries, int k) {
        int[] ids = new int[queries * k];
        float[] scores = new float[queries * k];
        Arrays.fill(ids, -1);
        Arrays.fill(scores, Float.NEGATIVE_INFINITY);
        return new Neighbors(queries, k, ids, scores);
    }

    public int id(int query, int rank) {
        return ids[query * k + rank];
    }

    public float score(int query, int rank) {
        return scores[query * k + rank];
    }

    /**
     * Recall@k of this (approximate) result against {@code exact}: the fraction of the exact top-{@code atK} ids of
     * each query found among this result's top-{@code atK}.
     */
    public double recallAgainst(Neighbors exact, int atK) {
        if (exact.queries != queries) {
            throw new IllegalArgumentException("different query counts: " + queries + " vs " + exact.queries);
        }
        int kk = Math.min(atK, Math.min(k, exact.k));
        long found = 0;
        long total = 0;
        for (int q = 0; q < queries; q++) {
            for (int i = 0; i < kk; i++) {
                int want = exact.id(q, i);
                if (want < 0) {
                    continue;
                }
                total++;
                for (int j = 0; j < kk; j++) {
                    if (id(q, j) == want) {
                        found++;
                        break;
                    }
                }
            }
        }
        return total == 0 ? 1.0 : (double) found / total;
    }
}
