package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.search.FlatIndex;
import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.pipeline.shards.EmbeddingShards;
import dev.dinoj.pipeline.shards.ShardStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code curate --exclude} over the partitions' float16 shards ({@link AlignedCopyMatch} in one heap), on the passes
 * of {@link ShardedCopyDetection}: a {@link ShardedCopyDetection#MOMENTS} pass and an {@link
 * ShardedCopyDetection#EXCLUDE} pass, so the driver never holds the pool's thumbnails.
 */
public final class ShardedExclusion {
    private ShardedExclusion() {}

    /**
     * {@code curate --exclude} over the shards: for each pool image (the partitions' selection {@link ShardedCopyDetection#SELECTION},
     * {@code poolOf} as in {@link ShardedCopyDetection#detect}), the reference image of {@code refs} (thumbnails of the same {@code side})
     * it is a copy of, as {@link AlignedCopyMatch#matchAgainst} decides in one heap: a {@link ShardedCopyDetection#MOMENTS} pass, the
     * whitening of the pool's moments plus the references' ({@link CopyWhitening#fromMoments}), the references written
     * to the store ({@link Partitions#excludeReferences}), then an {@link ShardedCopyDetection#EXCLUDE} pass matching each partition's images
     * against them as one heap does (each pool image's best {@code candidates} references, by the partition of the
     * image; each reference's best {@code candidates} pool images over every partition, by the partition that holds
     * the reference's share; {@link #pass}). The driver holds the references and reads 12 bytes per verified
     * pair.
     *
     * @return indexed by pool row; only matches at or above {@code s.threshold()}
     */
    public static AlignedCopyMatch.Match exclude(
            ShardedCopyDetection.Backend backend,
            ShardStore store,
            int partitions,
            int[] poolOf,
            FloatMatrix refs,
            int side,
            AlignedCopyDetector.Settings s,
            int blockRows)
            throws IOException {
        AlignedCopyDetector.checkSide(refs, side);
        int n = poolOf.length;
        int[] refOf = new int[n];
        float[] score = new float[n];
        java.util.Arrays.fill(refOf, -1);
        if (n == 0 || refs.rows() == 0) {
            return new AlignedCopyMatch.Match(refOf, score);
        }
        double[] m = backend.run(new ShardedCopyDetection.Task(
                ShardedCopyDetection.MOMENTS, side, s.candidates(), new double[0], blockRows));
        m = ShardedCopyDetection.add(m, CopyWhitening.moments(CopyDescriptors.views(refs, side)));
        double[] whitening = CopyWhitening.fromMoments(m, CopyPassFiles.DIM).toArray();
        CopyPassFiles.writeReferences(store, refs);
        backend.run(new ShardedCopyDetection.Task(
                ShardedCopyDetection.EXCLUDE, side, s.candidates(), whitening, blockRows));
        // each pool image's best reference over the partitions' verified pairs; on a tie the lower reference, as
        // in one heap (a pair verified from both ends keeps its better score, the best of all its hints)
        boolean[] any = new boolean[n];
        for (int p = 0; p < partitions; p++) {
            CopyPassFiles.readMatches(store, p, n, refs.rows(), (row, ref, sc) -> {
                int i = poolOf[row];
                if (!any[i] || sc > score[i] || (sc == score[i] && ref < refOf[i])) {
                    any[i] = true;
                    refOf[i] = ref;
                    score[i] = sc;
                }
            });
        }
        return AlignedCopyMatch.atThreshold(new AlignedCopyMatch.Match(refOf, score), s.threshold());
    }

    /**
     * Partition {@code p}'s share of the exclusion, as {@link AlignedCopyMatch#matchAgainst} in one heap: its own
     * images' windows against every reference's views (each image's best {@code candidates} references), and its share
     * of the references ({@code [p·R/P, (p+1)·R/P)}) against every partition's views (each reference's best {@code
     * candidates} pool images, the exact top k per window over the whole pool as in {@link ShardedCopyDetection#pairs}); every such pair
     * verified from its hints, the pool image read from its partition. Writes the pairs' scores ({@link
     * CopyPassFiles#writeMatches}) and answers {@code [pairs]}.
     */
    static double[] pass(
            ShardStore store, int partitions, int p, ShardedCopyDetection.Task t, EmbeddingShards.Reader mine)
            throws IOException {
        int side = t.side();
        CopyWhitening w = CopyWhitening.of(t.whitening());
        FloatMatrix refs = CopyPassFiles.readReferences(store, side);
        List<EmbeddingShards.Reader> all = ShardedKMeans.open(store, partitions, ShardedCopyDetection.SELECTION);
        long[] offset = ShardedCopyDetection.offsets(all);
        int n = Math.toIntExact(offset[partitions]);
        int base = Math.toIntExact(offset[p]);
        FloatMatrix xp = mine.readAll();
        int np = xp.rows();
        int r0 = (int) ((long) p * refs.rows() / partitions);
        int r1 = (int) ((long) (p + 1) * refs.rows() / partitions);
        // keys (global row, n + reference): one id space for the verifier; hints with the pool image first
        Map<Long, List<AlignedCopyDetector.Hint>> hints = new HashMap<>();
        try (FlatIndex refViews = new FlatIndex(w.apply(CopyDescriptors.views(refs, side)))) {
            AlignedCopyDetector.searchBlocks(
                    (from, to) -> w.apply(CopyDescriptors.windows(xp, side, from, to)),
                    (qs, k) -> refViews.search(qs, Math.min(k, refViews.size()), false, null),
                    np,
                    base,
                    AlignedCopyDetector.QUERY_BLOCK,
                    t.candidates(),
                    false,
                    (qi, ref, h) -> hints.computeIfAbsent(((long) qi << 32) | (n + ref), x -> new ArrayList<>(2))
                            .add(h));
        }
        FloatMatrix mineRefs =
                refs.select(java.util.stream.IntStream.range(r0, r1).toArray());
        AlignedCopyDetector.searchBlocks(
                (from, to) -> w.apply(CopyDescriptors.windows(mineRefs, side, from, to)),
                (qs, k) -> ShardedCopyDetection.nearestViews(all, w, side, qs, k, t.blockRows()),
                r1 - r0,
                r0,
                AlignedCopyDetector.QUERY_BLOCK,
                t.candidates(),
                false,
                (ref, row, h) -> hints.computeIfAbsent(((long) row << 32) | (n + ref), x -> new ArrayList<>(2))
                        .add(h.swapped()));
        // verify, the pool image of each pair read from its partition
        long[] keys =
                hints.keySet().stream().mapToLong(Long::longValue).sorted().toArray();
        float[] scores = ShardedCopyDetection.verifyByPartition(
                keys, hints, k -> k >>> 32, refs, g -> g >= n ? g - n : -1, all, offset, side);
        CopyPassFiles.writeMatches(store, p, keys, scores, n);
        return new double[] {keys.length};
    }
}
