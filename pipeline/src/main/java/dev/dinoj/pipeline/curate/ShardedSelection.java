package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.ingest.ManifestEntry;
import dev.dinoj.pipeline.search.FlatIndex;
import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.pipeline.search.KMeans;
import dev.dinoj.pipeline.search.Neighbors;
import dev.dinoj.pipeline.search.RunningTopK;
import dev.dinoj.pipeline.shards.EmbeddingShards;
import dev.dinoj.pipeline.shards.EmbeddingSpill;
import dev.dinoj.pipeline.shards.RowSelection;
import dev.dinoj.pipeline.shards.ShardStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@link SelectionVectors} in the partitions' float16 shards ({@link EmbeddingSpill}: {@code parts/part-NNNNN/
 * embeddings} of a curation root, the keys of the rows in {@code keys.txt}), for the cluster's curation: the driver
 * holds no retrieval embedding of the pool. For each stage it writes the pool rows the stage works on, and the
 * retrieval embedding's columns, as a {@link RowSelection} beside every partition ({@code retrieval.rows}, {@code clustering.rows}), then:
 *
 * <ul>
 *   <li>hierarchical k-means: {@link ShardedHierarchicalKMeans} over the selection, its passes through the
 *       {@link Backends} (the curation workers on the cluster, {@link ShardedKMeans.Local} in one JVM);</li>
 *   <li>retrieval, sample-based: an exact k-NN of the queries streamed over the selected rows a block at a time
 *       ({@link FlatIndex} per block, the running top {@code N} per query kept; ties to the lower row), the same
 *       neighbours as {@link Retrieval} finds with its exact index on the same rows;</li>
 *   <li>retrieval, cluster-based: {@link ShardedKMeans} over the selection (through the backends), the members of each
 *       query's cluster read from the written assignments, closest to the centroid first.</li>
 * </ul>
 * A pool image's row is the first row, in partition order, of its content (an exact duplicate's row serves its keeper).
 */
public final class ShardedSelection implements SelectionVectors.Source {
    /** Selection name of the retrieval stage. */
    public static final String RETRIEVAL = "retrieval";
    /** Selection name of the clustering stage. */
    public static final String CLUSTERING = "clustering";

    /** The passes of a sharded k-means over a named selection. */
    @FunctionalInterface
    public interface Backends {
        /** A backend whose passes read the partitions' selection {@code selection}. */
        ShardedKMeans.Backend over(String selection) throws IOException;

        /** {@link ShardedKMeans.Local}: every pass in this JVM. */
        static Backends local(ShardStore store, int partitions, int blockRows) {
            return selection -> new ShardedKMeans.Local(store, partitions, blockRows, selection);
        }
    }

    /**
     * The copy-detection thumbnails in the shards and where {@link ShardedCopyDetection}'s passes run: with them, the
     * pool's aligned copy detection runs on the shards too ({@link SelectionVectors#alignedCopies}).
     *
     * @param firstColumn the thumbnails' first column in the shards
     * @param columns     their number ({@code side²})
     */
    public record Copies(int firstColumn, int columns, ShardedCopyDetection.Backend backend) {}

    private final ShardStore store;
    private final int partitions;
    private final List<ManifestEntry> entries;
    private final Backends backends;
    private final int firstColumn;
    private final int blockRows;
    private final Copies copies;

    /**
     * @param store      the curation root
     * @param partitions its partitions
     * @param entries    every partition's manifest entries (the keys of the shard rows are looked up in them)
     * @param backends    where the k-means passes run
     * @param firstColumn the retrieval embedding's first column in the shards (the copy-detection columns before it,
     *                    {@link dev.dinoj.pipeline.embed.CompositeEmbedder}; 0 = one embedding for both)
     * @param blockRows   rows per streamed block
     */
    public ShardedSelection(
            ShardStore store,
            int partitions,
            List<ManifestEntry> entries,
            Backends backends,
            int firstColumn,
            int blockRows) {
        this(store, partitions, entries, backends, firstColumn, blockRows, null);
    }

    /** As above; with {@code copies} (not null), the aligned copy detection runs on the shards as well. */
    public ShardedSelection(
            ShardStore store,
            int partitions,
            List<ManifestEntry> entries,
            Backends backends,
            int firstColumn,
            int blockRows,
            Copies copies) {
        this.copies = copies;
        this.store = store;
        this.partitions = partitions;
        this.entries = entries;
        this.backends = backends;
        this.firstColumn = firstColumn;
        this.blockRows = blockRows;
    }

    @Override
    public SelectionVectors of(List<ManifestEntry> pool) {
        try {
            return new Vectors(locate(pool));
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** The shard row of every pool entry: {@code partition << 32 | row}. */
    private long[] locate(List<ManifestEntry> pool) throws IOException {
        Map<String, String> shaOf = new HashMap<>();
        for (ManifestEntry e : entries) {
            if (e.sha256() != null) {
                shaOf.put(e.key(), e.sha256());
            }
        }
        Map<String, Integer> poolIndex = new HashMap<>();
        for (int i = 0; i < pool.size(); i++) {
            poolIndex.put(pool.get(i).sha256(), i);
        }
        long[] at = new long[pool.size()];
        Arrays.fill(at, -1);
        for (int p = 0; p < partitions; p++) {
            String path = Partitions.embeddings(p) + "/" + EmbeddingSpill.KEYS;
            ByteBuffer b = store.read(path);
            byte[] bytes = new byte[b.remaining()];
            b.get(bytes);
            String[] keys = new String(bytes, StandardCharsets.UTF_8).split("\n", -1);
            long rows =
                    EmbeddingShards.Reader.open(store, Partitions.embeddings(p)).rows();
            if (keys.length != rows + 1 || !keys[(int) rows].isEmpty()) {
                throw new IllegalStateException(
                        store.describe(path) + ": " + (keys.length - 1) + " keys for " + rows + " shard rows");
            }
            for (int r = 0; r < rows; r++) {
                Integer i = poolIndex.get(shaOf.get(keys[r]));
                if (i != null && at[i] < 0) {
                    at[i] = (long) p << 32 | r;
                }
            }
        }
        for (int i = 0; i < at.length; i++) {
            if (at[i] < 0) {
                throw new IllegalStateException(pool.get(i).key() + ": in the pool but in no partition's shards ("
                        + store.describe(Partitions.relative(0)) + " …): delete the curation's parts to ingest afresh");
            }
        }
        return at;
    }

    /** The vectors of one pool. */
    private final class Vectors implements SelectionVectors {
        private final long[] at;

        Vectors(long[] at) {
            this.at = at;
        }

        /**
         * Writes the selection {@code name} of the pool rows {@code rows}; returns, for each selected row in selection
         * order (partition, then row), its index in {@code rows}.
         */
        private int[] select(String name, int[] rows) throws IOException {
            return select(name, rows, firstColumn, 0);
        }

        /** {@link #select(String, int[])} of the columns {@code [first, first + columns)} (0 = to the last). */
        private int[] select(String name, int[] rows, int first, int columns) throws IOException {
            Integer[] order = new Integer[rows.length];
            for (int i = 0; i < rows.length; i++) {
                order[i] = i;
            }
            Arrays.sort(order, (a, b) -> Long.compare(at[rows[a]], at[rows[b]]));
            int[] out = new int[rows.length];
            int j = 0;
            for (int p = 0; p < partitions; p++) {
                int from = j;
                while (j < rows.length && (int) (at[rows[order[j]]] >>> 32) == p) {
                    out[j] = order[j];
                    j++;
                }
                int[] local = new int[j - from];
                for (int t = 0; t < local.length; t++) {
                    local[t] = (int) at[rows[order[from + t]]];
                }
                long of = EmbeddingShards.Reader.open(store, Partitions.embeddings(p))
                        .rows();
                new RowSelection(of, first, columns, local).write(store, Partitions.selection(p, name));
            }
            return out;
        }

        @Override
        public java.util.Optional<AlignedCopyMatch.Match> excluded(
                FloatMatrix refs, int side, AlignedCopyDetector.Settings s) {
            if (copies == null) {
                return java.util.Optional.empty();
            }
            try {
                int[] all = java.util.stream.IntStream.range(0, at.length).toArray();
                // the exclusion's thumbnails lead the shards' columns (CurateJob.Layout: its own columns, or the
                // copy-detection columns when they are copy:24 themselves)
                int[] poolOf = select(ShardedCopyDetection.SELECTION, all, 0, side * side);
                return java.util.Optional.of(ShardedExclusion.exclude(
                        copies.backend(), store, partitions, poolOf, refs, side, s, blockRows));
            } catch (IOException e) {
                throw new UncheckedIOException(e.getMessage(), e);
            }
        }

        @Override
        public java.util.Optional<CopyDetector.Result> alignedCopies(int side, AlignedCopyDetector.Settings s) {
            if (copies == null) {
                return java.util.Optional.empty();
            }
            if (copies.columns() != side * side) {
                throw new IllegalArgumentException(
                        copies.columns() + " copy-detection columns in the shards are not copy:" + side + "'s");
            }
            try {
                int[] all = java.util.stream.IntStream.range(0, at.length).toArray();
                int[] poolOf = select(ShardedCopyDetection.SELECTION, all, copies.firstColumn(), copies.columns());
                return java.util.Optional.of(
                        ShardedCopyDetection.detect(copies.backend(), store, partitions, poolOf, side, s, blockRows));
            } catch (IOException e) {
                throw new UncheckedIOException(e.getMessage(), e);
            }
        }

        @Override
        public HierarchicalKMeans.Hierarchy cluster(
                int[] rows, HierarchicalKMeans.Settings s, Consumer<String> progress) {
            try {
                int[] index = select(CLUSTERING, rows);
                HierarchicalKMeans.Hierarchy h = ShardedHierarchicalKMeans.fit(
                        backends.over(CLUSTERING), store, partitions, CLUSTERING, s, progress);
                // point j of h is the j-th selected row, rows[index[j]]: renumber the points as rows
                HierarchicalKMeans.Level l1 = h.level(1);
                int[] assignment = new int[rows.length];
                for (int j = 0; j < rows.length; j++) {
                    assignment[index[j]] = l1.assignment()[j];
                }
                int[][] clusters = new int[l1.clusters().length][];
                for (int c = 0; c < clusters.length; c++) {
                    clusters[c] =
                            Arrays.stream(l1.clusters()[c]).map(j -> index[j]).toArray();
                }
                List<HierarchicalKMeans.Level> levels = new ArrayList<>(h.levels());
                levels.set(0, new HierarchicalKMeans.Level(l1.centroids(), assignment, clusters));
                return new HierarchicalKMeans.Hierarchy(rows.length, levels);
            } catch (IOException e) {
                throw new UncheckedIOException(e.getMessage(), e);
            }
        }

        @Override
        public Retrieval.Result retrieve(int[] rows, FloatMatrix queries, String[] queryKeys, Retrieval.Settings s) {
            try {
                return retrieveOrThrow(rows, queries, queryKeys, s);
            } catch (IOException e) {
                throw new UncheckedIOException(e.getMessage(), e);
            }
        }

        private Retrieval.Result retrieveOrThrow(
                int[] rows, FloatMatrix queries, String[] queryKeys, Retrieval.Settings s) throws IOException {
            Map<Integer, String> reasons = new LinkedHashMap<>();
            int[] perQuery = new int[queries.rows()];
            int n = rows.length;
            if (n == 0 || queries.rows() == 0) {
                return new Retrieval.Result(reasons, null, perQuery);
            }
            int[] index = select(RETRIEVAL, rows);
            if (s.perQuery() > 0) {
                int k = Math.min(s.perQuery(), n);
                Neighbors nn = nearest(queries, k);
                for (int q = 0; q < queries.rows(); q++) {
                    for (int r = 0; r < k; r++) {
                        int at = nn.id(q, r);
                        if (at >= 0 && reasons.putIfAbsent(index[at], "query:" + queryKeys[q] + ":" + r) == null) {
                            perQuery[q]++;
                        }
                    }
                }
            }
            int[] poolClusters = null;
            if (s.perCluster() > 0) {
                int k = s.clusters() > 0 ? s.clusters() : (int) Math.max(2, Math.round(2 * Math.sqrt(n)));
                ShardedKMeans.Result km = ShardedKMeans.fit(
                        backends.over(RETRIEVAL),
                        new ShardedKMeans.Settings(Math.min(k, n), s.iterations(), s.seed(), 16),
                        null);
                int kc = km.centroids().rows();
                int[] assignment = new int[n];
                float[] distance = new float[n];
                int o = 0;
                List<EmbeddingShards.Reader> parts = ShardedKMeans.open(store, partitions, RETRIEVAL);
                for (int p = 0; p < partitions; p++) {
                    PartitionAssignments a = PartitionAssignments.read(
                            store, Partitions.assignments(p), parts.get(p).rows());
                    System.arraycopy(a.cluster(), 0, assignment, o, a.cluster().length);
                    System.arraycopy(a.distance(), 0, distance, o, a.distance().length);
                    o += a.cluster().length;
                }
                poolClusters = new int[n];
                for (int j = 0; j < n; j++) {
                    poolClusters[index[j]] = assignment[j];
                }
                int[][] members = KMeans.clusters(assignment, distance, kc);
                int[] queryCluster =
                        KMeans.assign(queries, km.centroids(), 128L << 20).assignment();
                for (int q = 0; q < queries.rows(); q++) {
                    int c = queryCluster[q];
                    int take = Math.min(s.perCluster(), members[c].length);
                    for (int i = 0; i < take; i++) {
                        if (reasons.putIfAbsent(index[members[c][i]], "cluster:" + c + ":" + queryKeys[q]) == null) {
                            perQuery[q]++;
                        }
                    }
                }
            }
            return new Retrieval.Result(reasons, poolClusters, perQuery);
        }

        /**
         * The {@code k} most similar selected rows ({@link #RETRIEVAL}, numbered in the selection) of every query:
         * each block's top {@code k} by {@link FlatIndex}, merged into the running top {@code k} (higher score first,
         * then lower row).
         */
        private Neighbors nearest(FloatMatrix queries, int k) throws IOException {
            RunningTopK top = new RunningTopK(queries.rows(), k);
            long base = 0;
            for (EmbeddingShards.Reader r : ShardedKMeans.open(store, partitions, RETRIEVAL)) {
                long offset = base;
                r.forEachBlock(blockRows, (first, block) -> {
                    try (FlatIndex f = new FlatIndex(block)) {
                        top.merge(f.search(queries, Math.min(k, block.rows())), offset + first);
                    }
                });
                base += r.rows();
            }
            return top.result();
        }
    }
}
