package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.search.FloatMatrix;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code curate --exclude}: which pool images are copies of reference images (the test split, a query set), with
 * {@link AlignedCopyDetector}'s two stages across the two sets — crop-window candidates in both directions, then the
 * aligned verification — and its threshold {@link AlignedCopyDetector#THRESHOLD}. {@link ShardedExclusion} does the
 * same over the cluster's shards.
 */
public final class AlignedCopyMatch {
    private AlignedCopyMatch() {}

    /**
     * For each row of {@code pool}, the best row of {@code refs} that it is a copy of (-1: none) and that pair's score
     * ({@code curate --exclude}). Both are thumbnails of the same {@code side}; the whitening is fitted on both.
     *
     * @return {@code [refOf, score]} as an int array and a float array
     */
    public static Match matchAgainst(FloatMatrix pool, FloatMatrix refs, int side, AlignedCopyDetector.Settings s) {
        AlignedCopyDetector.checkSide(pool, side);
        AlignedCopyDetector.checkSide(refs, side);
        return atThreshold(bestReferences(pool, refs, side, s), s.threshold());
    }

    /** {@code m} with the matches below {@code threshold} dropped (-1, score 0). */
    static Match atThreshold(Match m, float threshold) {
        int[] refOf = m.refOf().clone();
        float[] score = m.score().clone();
        for (int i = 0; i < refOf.length; i++) {
            if (refOf[i] >= 0 && !(score[i] >= threshold)) {
                refOf[i] = -1;
                score[i] = 0;
            }
        }
        return new Match(refOf, score);
    }

    /**
     * For each row of {@code pool}, its best verified row of {@code refs} whatever the score (-1: no candidate pair; on
     * a tie the lower reference), the descriptors whitened with the views of both.
     */
    private static Match bestReferences(FloatMatrix pool, FloatMatrix refs, int side, AlignedCopyDetector.Settings s) {
        int n = pool.rows();
        int[] refOf = new int[n];
        float[] best = new float[n];
        Arrays.fill(refOf, -1);
        if (n == 0 || refs.rows() == 0) {
            return new Match(refOf, best);
        }
        FloatMatrix poolViews = CopyDescriptors.views(pool, side);
        FloatMatrix refViews = CopyDescriptors.views(refs, side);
        CopyWhitening w = CopyWhitening.fit(AlignedCopyDetector.concat(poolViews, refViews));
        // pair key (pool, ref); hints with A = first, B = second
        Map<Long, List<AlignedCopyDetector.Hint>> pairs = new HashMap<>();
        AlignedCopyDetector.search(
                (from, to) -> w.apply(CopyDescriptors.windows(pool, side, from, to)),
                w.apply(refViews),
                n,
                s,
                false,
                (qi, dj, h) -> pairs.computeIfAbsent(((long) qi << 32) | dj, k -> new ArrayList<>(2))
                        .add(h));
        AlignedCopyDetector.search(
                (from, to) -> w.apply(CopyDescriptors.windows(refs, side, from, to)),
                w.apply(poolViews),
                refs.rows(),
                s,
                false,
                (qi, dj, h) -> pairs.computeIfAbsent(((long) dj << 32) | qi, k -> new ArrayList<>(2))
                        .add(h.swapped()));
        FloatMatrix both = AlignedCopyDetector.concat(pool, refs);
        boolean[] flat = AlignedCopyDetector.flat(both, side);
        long[] keys =
                pairs.keySet().stream().mapToLong(Long::longValue).sorted().toArray();
        long[] joint = new long[keys.length];
        Map<Long, List<AlignedCopyDetector.Hint>> jointPairs = new HashMap<>();
        for (int p = 0; p < keys.length; p++) {
            long a = keys[p] >>> 32;
            long b = n + (keys[p] & 0xffffffffL);
            joint[p] = (a << 32) | b;
            jointPairs.put(joint[p], pairs.get(keys[p]));
        }
        float[] score = AlignedCopyDetector.verify(both.data(), side, joint, jointPairs, i -> i, flat);
        for (int p = 0; p < keys.length; p++) {
            int i = (int) (keys[p] >>> 32);
            if (refOf[i] < 0 || score[p] > best[i]) {
                best[i] = score[p];
                refOf[i] = (int) keys[p];
            }
        }
        return new Match(refOf, best);
    }

    /**
     * @param refOf for each pool image, the reference it copies, or -1
     * @param score that pair's verification score (0 without one)
     */
    public record Match(int[] refOf, float[] score) {}
}
