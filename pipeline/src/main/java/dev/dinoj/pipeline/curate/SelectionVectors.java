package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.ingest.ManifestEntry;
import dev.dinoj.pipeline.search.FloatMatrix;
import java.util.List;
import java.util.function.Consumer;

/**
 * Where {@link Curation}'s selection stages (retrieval around the queries, hierarchical k-means) find the retrieval
 * embeddings of the deduplicated pool: in the heap ({@link #inHeap}, what {@code dinoj curate} does), or in the
 * partitions' float16 shards ({@link ShardedSelection}, the cluster's curation), streamed and clustered without the
 * pool's matrix in one heap. Rows are indices into the pool {@link Curation} builds (its entries sorted by key).
 */
public interface SelectionVectors {

    /**
     * Retrieval around {@code queries} among the pool rows {@code rows}.
     *
     * @return as {@link Retrieval#retrieve}, with indices into {@code rows}
     */
    Retrieval.Result retrieve(int[] rows, FloatMatrix queries, String[] queryKeys, Retrieval.Settings s);

    /**
     * Hierarchical k-means of the pool rows {@code rows}.
     *
     * @return a hierarchy whose point {@code i} is {@code rows[i]}
     */
    HierarchicalKMeans.Hierarchy cluster(int[] rows, HierarchicalKMeans.Settings s, Consumer<String> progress);

    /**
     * The aligned copy detection of the whole pool where its copy-detection thumbnails live ({@link
     * ShardedCopyDetection} over the cluster's shards), or empty: the caller runs {@link AlignedCopyDetector#detect}
     * on the copy-detection columns in its heap.
     *
     * @return as {@link AlignedCopyDetector#detect}, indexed by pool row
     */
    default java.util.Optional<CopyDetector.Result> alignedCopies(int side, AlignedCopyDetector.Settings s) {
        return java.util.Optional.empty();
    }

    /**
     * {@code curate --exclude} where the pool's thumbnails live ({@link ShardedExclusion#exclude} over the
     * cluster's shards, the {@code copy:side} thumbnails in the shards' first columns), or empty: the caller runs
     * {@link AlignedCopyMatch#matchAgainst} in its heap.
     *
     * @return as {@link AlignedCopyMatch#matchAgainst}, indexed by pool row
     */
    default java.util.Optional<AlignedCopyMatch.Match> excluded(
            FloatMatrix refs, int side, AlignedCopyDetector.Settings s) {
        return java.util.Optional.empty();
    }

    /** The vectors of a pool, once {@link Curation} has built it (exact duplicates and excluded images out). */
    @FunctionalInterface
    interface Source {
        /** The vectors of {@code pool} (row {@code i} = {@code pool.get(i)}). */
        SelectionVectors of(List<ManifestEntry> pool);
    }

    /** The rows of {@code x} in the heap: {@link Retrieval} and {@link HierarchicalKMeans} as they are. */
    static SelectionVectors inHeap(FloatMatrix x) {
        return new SelectionVectors() {
            @Override
            public Retrieval.Result retrieve(
                    int[] rows, FloatMatrix queries, String[] queryKeys, Retrieval.Settings s) {
                return Retrieval.retrieve(x.select(rows), queries, queryKeys, s);
            }

            @Override
            public HierarchicalKMeans.Hierarchy cluster(
                    int[] rows, HierarchicalKMeans.Settings s, Consumer<String> progress) {
                return HierarchicalKMeans.fit(x.select(rows), s, progress);
            }
        };
    }
}
