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

    /** Empty result lists to be filled by {@link TopK#merge}. */
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

    /** Merges sorted top-k candidate lists into a result. */
    static final class TopK {
        private TopK() {}

        /**
         * Merges {@code n} candidates (scores descending) into query {@code q}'s list of {@code out}, keeping the best k
         * in descending order. {@code tmpIds}/{@code tmpScores} are scratch of length ≥ k.
         */
        static void merge(
                Neighbors out,
                int q,
                float[] candScores,
                int[] candIds,
                int candOffset,
                int n,
                int[] tmpIds,
                float[] tmpScores) {
            int k = out.k;
            int base = q * k;
            int a = 0;
            int b = 0;
            for (int r = 0; r < k; r++) {
                boolean takeA = a < k
                        && out.ids[base + a] >= 0
                        && (b >= n || out.scores[base + a] >= candScores[candOffset + b]);
                if (takeA) {
                    tmpIds[r] = out.ids[base + a];
                    tmpScores[r] = out.scores[base + a];
                    a++;
                } else if (b < n) {
                    tmpIds[r] = candIds[candOffset + b];
                    tmpScores[r] = candScores[candOffset + b];
                    b++;
                } else {
                    tmpIds[r] = -1;
                    tmpScores[r] = Float.NEGATIVE_INFINITY;
                }
            }
            System.arraycopy(tmpIds, 0, out.ids, base, k);
            System.arraycopy(tmpScores, 0, out.scores, base, k);
        }
    }
}
