package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.search.FlatIndex;
import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.pipeline.search.IvfIndex;
import dev.dinoj.pipeline.search.KMeans;
import dev.dinoj.pipeline.search.Neighbors;
import dev.dinoj.pipeline.search.RunningTopK;
import dev.dinoj.pipeline.shards.EmbeddingShards;
import dev.dinoj.pipeline.shards.ShardStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@link AlignedCopyDetector} over the partitions' float16 shards, for the cluster's curation: the copy-detection
 * thumbnails ({@code copy:SIDE} columns) stay in the shards and the work runs partition by partition (on the curation
 * workers, or in one JVM with {@link Backend#local}); the driver holds only the verified pairs (12 bytes each, about 14
 * per image) and decides the copy groups. Two passes over the partitions' row selection {@link #SELECTION}:
 *
 * <ol>
 *   <li>{@link #MOMENTS}: each partition's sums of its images' low-pass views and of their outer products; the driver
 *       adds them in partition order into the pool's descriptor whitening ({@link CopyWhitening#fromMoments});</li>
 *   <li>{@link #PAIRS}: each partition's images are the queries: their crop-window descriptors are searched against the
 *       indexed views of every partition's images, a block of rows at a time (the exact top {@code k} per window over
 *       the whole pool, {@link RunningTopK}); each query image's best {@code candidates} other images are verified
 *       ({@link CopyVerifier}, the other image's thumbnail read from its partition's shards) and the pairs written
 *       beside the partition ({@link Partitions#copyPairs}: {@code "DJCPAIR1"}, int32 pairs, int32 uniform images;
 *       int64 keys, ascending; float32 scores; int32 uniform rows; little-endian).</li>
 * </ol>
 * The driver merges the partitions' pairs (a pair found from both ends keeps its better score, which is the score
 * {@link AlignedCopyDetector} gives it from both hints), renumbers them in pool order and runs {@link
 * AlignedCopyDetector#decide}. The result is the in-heap detector's on the same float16 rows, up to the whitening's
 * rounding (sums of moments instead of centred sums).
 *
 * <p>Pools larger than {@code approximate-above} images search approximately, as the in-heap detector does, with an
 * inverted-file index ({@link IvfIndex}) spread over the partitions: the {@link #MOMENTS} pass also writes a sample of
 * each partition's views ({@link Partitions#copySample}, about 64 per list over the pool); the driver whitens the
 * samples and trains the global coarse quantizer ({@link IvfIndex#defaultLists} of the pool's views); a {@link #LISTS}
 * pass writes each partition's whitened views grouped by their nearest centroid ({@link Partitions#copyLists}); and
 * the {@link #PAIRS} pass searches a large block of query windows ({@link #IVF_QUERY_BYTES}) against every
 * partition's lists, probing each window's {@code nprobe} nearest lists. With the coarse quantizer shared, that is
 * the search of one index over the whole pool; the search cost falls from the pool's square to about {@code nprobe /
 * lists} of it.
 *
 * <p>{@code curate --exclude} runs over the same selection before the detection ({@link ShardedExclusion#exclude}: a {@link #MOMENTS}
 * pass and an {@link #EXCLUDE} pass), so the driver never holds the pool's thumbnails.
 */
public final class ShardedCopyDetection {
    /** The row selection the passes read: the pool's rows and its copy-detection columns. */
    public static final String SELECTION = "copies";

    /** Task kind: the moments of the views. */
    public static final int MOMENTS = 0;

    /** Task kind: candidate search and verification, pairs written beside the partition. */
    public static final int PAIRS = 1;

    /** Task kind: the partition's whitened views in the approximate search's inverted lists. */
    public static final int LISTS = 2;

    /**
     * Task kind: the partition's share of the matching against the reference images of {@code curate --exclude}
     * ({@link #exclude}), its verified pairs written beside the partition.
     */
    public static final int EXCLUDE = 3;

    /** Bytes of query windows and their running top-k per block of the approximate search. */
    static final long IVF_QUERY_BYTES = 256L << 20;

    /** Seed of the views' sample and of the coarse quantizer's k-means. */
    static final long SEED = 17;

    /** Columns of a view descriptor. */
    private static final int DIM = CopyPassFiles.DIM;

    private ShardedCopyDetection() {}

    /**
     * One pass's work on a partition.
     *
     * @param kind       {@link #MOMENTS}, {@link #LISTS}, {@link #PAIRS} or {@link #EXCLUDE}
     * @param side       the thumbnails' side
     * @param candidates other images verified per query image
     * @param whitening  {@link CopyWhitening#toArray} for {@link #LISTS}, {@link #PAIRS} and {@link #EXCLUDE}, empty for
     *                   {@link #MOMENTS}
     * @param blockRows  rows per block read from the shards
     * @param sampleRate for {@link #MOMENTS}: the fraction of views written to the sample (0: none, exact search)
     * @param centroids  the coarse quantizer's centroids, row-major (empty: exact search)
     * @param nprobe     lists probed per query window by the approximate search
     */
    public record Task(
            int kind,
            int side,
            int candidates,
            double[] whitening,
            int blockRows,
            double sampleRate,
            float[] centroids,
            int nprobe) {
        public Task {
            if (kind < MOMENTS
                    || kind > EXCLUDE
                    || side < 2
                    || candidates < 1
                    || blockRows < 1
                    || !(sampleRate >= 0 && sampleRate <= 1)
                    || centroids.length % DIM != 0
                    || (kind == LISTS && centroids.length == 0)
                    || nprobe < 1) {
                throw new IllegalArgumentException("bad copy-detection task: kind " + kind + ", side " + side
                        + ", candidates " + candidates + ", block rows " + blockRows + ", sample rate " + sampleRate
                        + ", " + centroids.length + " centroid values, nprobe " + nprobe);
            }
        }

        /** An exact-search task. */
        public Task(int kind, int side, int candidates, double[] whitening, int blockRows) {
            this(kind, side, candidates, whitening, blockRows, 0, new float[0], 1);
        }
    }

    /** Where the partitions' tasks run. */
    @FunctionalInterface
    public interface Backend {
        /** Runs {@code t} on every partition; the sum of their answers, added in partition order. */
        double[] run(Task t) throws IOException;

        /** Every partition in this JVM, one after the other. */
        static Backend local(ShardStore store, int partitions) {
            return t -> {
                double[] total = null;
                for (int p = 0; p < partitions; p++) {
                    total = add(total, ShardedCopyDetection.run(store, partitions, p, t));
                }
                return total;
            };
        }
    }

    /** {@code total + part} (a new array when {@code total} is null). */
    public static double[] add(double[] total, double[] part) {
        if (total == null) {
            return part.clone();
        }
        if (total.length != part.length) {
            throw new IllegalArgumentException("answers of " + total.length + " and " + part.length + " values");
        }
        for (int i = 0; i < part.length; i++) {
            total[i] += part[i];
        }
        return total;
    }

    /**
     * Partition {@code p}'s share of {@code t} (a curation worker runs this): {@link #MOMENTS} answers the moments (and
     * writes the views' sample), {@link #LISTS} writes the partition's inverted lists and answers {@code [views]},
     * {@link #PAIRS} writes the partition's pairs and answers {@code [pairs, uniform images, search seconds,
     * verification seconds]}, {@link #EXCLUDE} writes the partition's verified exclusion pairs and answers {@code [pairs]}.
     */
    public static double[] run(ShardStore store, int partitions, int p, Task t) throws IOException {
        EmbeddingShards.Reader mine = ShardedKMeans.openPartition(store, p, SELECTION);
        int side = t.side();
        if (mine.dim() != side * side) {
            throw new IllegalArgumentException(store.describe(Partitions.selection(p, SELECTION)) + ": " + mine.dim()
                    + " columns, not the " + side + "² of copy:" + side);
        }
        if (t.kind() == MOMENTS) {
            double[][] total = {CopyWhitening.moments(new FloatMatrix(0, DIM, new float[0]))};
            CopyPassFiles.FloatList sample = new CopyPassFiles.FloatList();
            mine.forEachBlock(t.blockRows(), (first, block) -> {
                FloatMatrix views = CopyDescriptors.views(block, side);
                total[0] = add(total[0], CopyWhitening.moments(views));
                for (int v = 0; v < views.rows() && t.sampleRate() > 0; v++) {
                    if (sampled(p, first * CopyDescriptors.VIEWS + v, t.sampleRate())) {
                        sample.add(views.data(), v * DIM, DIM);
                    }
                }
            });
            if (t.sampleRate() > 0) {
                CopyPassFiles.writeSample(store, p, sample);
            }
            return total[0];
        }
        if (t.kind() == LISTS) {
            return lists(store, partitions, p, t, mine);
        }
        if (t.kind() == EXCLUDE) {
            return ShardedExclusion.pass(store, partitions, p, t, mine);
        }
        return pairs(store, partitions, p, t, mine);
    }

    /** Whether view {@code view} (numbered in its partition) of partition {@code p} is in the sample: a hash draw. */
    static boolean sampled(int p, long view, double rate) {
        long z = SEED * 0x9E3779B97F4A7C15L + ((long) p << 40) + view;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (z >>> 11) * 0x1.0p-53 < rate;
    }

    /** The pool's global row offsets of the partitions ({@code partitions + 1} values). */
    static long[] offsets(List<EmbeddingShards.Reader> all) {
        long[] offset = new long[all.size() + 1];
        for (int q = 0; q < all.size(); q++) {
            offset[q + 1] = offset[q] + all.get(q).rows();
        }
        return offset;
    }

    /** Writes partition {@code p}'s whitened views grouped by their nearest centroid ({@link CopyPassFiles#writeLists}). */
    private static double[] lists(ShardStore store, int partitions, int p, Task t, EmbeddingShards.Reader mine)
            throws IOException {
        CopyWhitening w = CopyWhitening.of(t.whitening());
        FloatMatrix centroids = new FloatMatrix(t.centroids().length / DIM, DIM, t.centroids());
        long firstView = offsets(ShardedKMeans.open(store, partitions, SELECTION))[p] * CopyDescriptors.VIEWS;
        int rows = Math.toIntExact(mine.rows() * CopyDescriptors.VIEWS);
        float[] views = new float[rows * DIM];
        int[] assignment = new int[rows];
        mine.forEachBlock(t.blockRows(), (first, block) -> {
            FloatMatrix v = w.apply(CopyDescriptors.views(block, t.side()));
            int at = Math.toIntExact(first * CopyDescriptors.VIEWS);
            System.arraycopy(v.data(), 0, views, at * DIM, v.data().length);
            int[] a = KMeans.assign(v, centroids, 64L << 20).assignment();
            System.arraycopy(a, 0, assignment, at, a.length);
        });
        int[] starts = IvfIndex.listStarts(assignment, centroids.rows());
        CopyPassFiles.writeLists(store, p, starts, IvfIndex.byList(assignment, starts), firstView, views);
        return new double[] {rows};
    }

    /**
     * The {@code k} best indexed views of each query descriptor among its {@code nprobe} nearest lists over every
     * partition's inverted lists.
     */
    private static Neighbors nearestInLists(
            ShardStore store, int partitions, FloatMatrix centroids, FloatMatrix qs, int k, int nprobe) {
        RunningTopK top = new RunningTopK(qs.rows(), k);
        try {
            for (int q = 0; q < partitions; q++) {
                try (IvfIndex index = CopyPassFiles.readLists(store, q, centroids)) {
                    top.merge(index.search(qs, k, nprobe), 0);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        return top.result();
    }

    private static double[] pairs(ShardStore store, int partitions, int p, Task t, EmbeddingShards.Reader mine)
            throws IOException {
        int side = t.side();
        CopyWhitening w = CopyWhitening.of(t.whitening());
        List<EmbeddingShards.Reader> all = ShardedKMeans.open(store, partitions, SELECTION);
        long[] offset = offsets(all);
        int base = Math.toIntExact(offset[p]);
        FloatMatrix xp = mine.readAll();
        int np = xp.rows();
        Map<Long, List<AlignedCopyDetector.Hint>> hints = new HashMap<>();
        boolean approximate = t.centroids().length > 0;
        FloatMatrix centroids = new FloatMatrix(t.centroids().length / DIM, DIM, t.centroids());
        int kRow = t.candidates() + CopyDescriptors.VIEWS;
        // the approximate search reads every partition's lists per block of queries: large blocks
        int block = approximate
                ? (int) Math.max(
                        AlignedCopyDetector.QUERY_BLOCK,
                        IVF_QUERY_BYTES / ((long) CopyDescriptors.WINDOWS * (DIM * 4L + kRow * 8L)))
                : AlignedCopyDetector.QUERY_BLOCK;
        long t0 = System.nanoTime();
        AlignedCopyDetector.searchBlocks(
                (from, to) -> w.apply(CopyDescriptors.windows(xp, side, from, to)),
                approximate
                        ? (qs, k) -> nearestInLists(store, partitions, centroids, qs, k, t.nprobe())
                        : (qs, k) -> nearestViews(all, w, side, qs, k, t.blockRows()),
                np,
                base,
                block,
                t.candidates(),
                true,
                (qi, dj, h) -> hints.computeIfAbsent(AlignedCopyDetector.key(qi, dj), x -> new ArrayList<>(2))
                        .add(h));
        long t1 = System.nanoTime();
        // verify, the other end of each pair (the one outside this partition, or the second) read from its partition
        long[] keys =
                hints.keySet().stream().mapToLong(Long::longValue).sorted().toArray();
        float[] scores = verifyByPartition(
                keys,
                hints,
                k -> {
                    int a = (int) (k >>> 32);
                    return a >= base && a < base + np ? (int) k : a;
                },
                xp,
                g -> g >= base && g < base + np ? g - base : -1,
                all,
                offset,
                side);
        long t2 = System.nanoTime();
        boolean[] flat = AlignedCopyDetector.flat(xp, side);
        int flats = 0;
        for (boolean f : flat) {
            flats += f ? 1 : 0;
        }
        CopyPassFiles.writePairs(store, p, keys, scores, flat, base);
        return new double[] {keys.length, flats, (t1 - t0) / 1e9, (t2 - t1) / 1e9};
    }

    /**
     * Verifies the pairs {@code keys} (ascending) from their {@code hints}: one end of each pair is a row of {@code
     * fixed} ({@code fixedRow}: the id's row there, or -1), the other ({@code other}: its global selection row) is read
     * from its partition's shards, one partition at a time. The scores, in the order of {@code keys}.
     */
    static float[] verifyByPartition(
            long[] keys,
            Map<Long, List<AlignedCopyDetector.Hint>> hints,
            java.util.function.LongUnaryOperator other,
            FloatMatrix fixed,
            java.util.function.IntUnaryOperator fixedRow,
            List<EmbeddingShards.Reader> all,
            long[] offset,
            int side)
            throws IOException {
        TreeMap<Integer, List<Integer>> byPartition = new TreeMap<>();
        for (int i = 0; i < keys.length; i++) {
            byPartition
                    .computeIfAbsent(partitionOf(offset, other.applyAsLong(keys[i])), x -> new ArrayList<>())
                    .add(i);
        }
        float[] scores = new float[keys.length];
        int nf = fixed.rows();
        for (Map.Entry<Integer, List<Integer>> e : byPartition.entrySet()) {
            long qBase = offset[e.getKey()];
            int[] at = e.getValue().stream().mapToInt(Integer::intValue).toArray();
            long[] qKeys = Arrays.stream(at).mapToLong(i -> keys[i]).toArray();
            long[] local = Arrays.stream(qKeys)
                    .map(k -> other.applyAsLong(k) - qBase)
                    .distinct()
                    .sorted()
                    .toArray();
            FloatMatrix others = all.get(e.getKey()).rows(local);
            float[] data = Arrays.copyOf(fixed.data(), fixed.data().length + others.data().length);
            System.arraycopy(others.data(), 0, data, fixed.data().length, others.data().length);
            float[] s = AlignedCopyDetector.verify(
                    data,
                    side,
                    qKeys,
                    hints,
                    g -> {
                        int f = fixedRow.applyAsInt(g);
                        return f >= 0 ? f : nf + Arrays.binarySearch(local, g - qBase);
                    },
                    AlignedCopyDetector.flat(new FloatMatrix(nf + local.length, side * side, data), side));
            for (int j = 0; j < at.length; j++) {
                scores[at[j]] = s[j];
            }
        }
        return scores;
    }

    /** The partition of global row {@code g}. */
    static int partitionOf(long[] offset, long g) {
        int q = 0;
        while (offset[q + 1] <= g) {
            q++;
        }
        return q;
    }

    /**
     * The {@code k} best indexed views (ids: global image · VIEWS + view) of each query descriptor over every
     * partition's images, a block of rows at a time.
     */
    static dev.dinoj.pipeline.search.Neighbors nearestViews(
            List<EmbeddingShards.Reader> all, CopyWhitening w, int side, FloatMatrix qs, int k, int blockRows) {
        RunningTopK top = new RunningTopK(qs.rows(), k);
        long[] base = {0};
        try {
            for (EmbeddingShards.Reader r : all) {
                r.forEachBlock(blockRows, (first, block) -> {
                    FloatMatrix views = w.apply(CopyDescriptors.views(block, side));
                    try (FlatIndex f = new FlatIndex(views)) {
                        top.merge(
                                f.search(qs, Math.min(k, views.rows()), false, null),
                                (base[0] + first) * CopyDescriptors.VIEWS);
                    }
                });
                base[0] += r.rows();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        return top.result();
    }

    /**
     * The aligned copy detection of the pool whose rows are the partitions' selection {@link #SELECTION} ({@code
     * poolOf[j]}: the pool index of the selection's row {@code j}, partition order): the two passes through {@code
     * backend}, then the pairs read from {@code store} and decided in pool order.
     *
     * @return as {@link AlignedCopyDetector#detect}, indexed by pool row
     */
    public static CopyDetector.Result detect(
            Backend backend,
            ShardStore store,
            int partitions,
            int[] poolOf,
            int side,
            AlignedCopyDetector.Settings s,
            int blockRows)
            throws IOException {
        if (poolOf.length == 0) {
            return AlignedCopyDetector.decide(0, null, null, s.threshold());
        }
        Pairs pairs = pairs(backend, store, partitions, poolOf, side, s, blockRows);
        return AlignedCopyDetector.decide(poolOf.length, pairs.scored(), pairs.flat(), s.threshold());
    }

    /** The verified pairs of the pool, in pool order, and its uniform images. */
    record Pairs(AlignedCopyDetector.Scored scored, boolean[] flat) {}

    static Pairs pairs(
            Backend backend,
            ShardStore store,
            int partitions,
            int[] poolOf,
            int side,
            AlignedCopyDetector.Settings s,
            int blockRows)
            throws IOException {
        int n = poolOf.length;
        long views = (long) n * CopyDescriptors.VIEWS;
        boolean approximate = s.approximateAbove() > 0 && n > s.approximateAbove();
        int lists = approximate ? IvfIndex.defaultLists(Math.toIntExact(views)) : 0;
        // about 64 sampled views per list, as IvfIndex.build trains on
        double rate = approximate ? Math.min(1, 64.0 * lists / views) : 0;
        double[] m = backend.run(
                new Task(MOMENTS, side, s.candidates(), new double[0], blockRows, rate, new float[0], s.nprobe()));
        CopyWhitening w = CopyWhitening.fromMoments(m, DIM);
        double[] whitening = w.toArray();
        float[] centroids = new float[0];
        if (approximate) {
            centroids = IvfIndex.coarse(w.apply(CopyPassFiles.readSamples(store, partitions)), lists, 10, SEED)
                    .data();
            backend.run(new Task(LISTS, side, s.candidates(), whitening, blockRows, 0, centroids, s.nprobe()));
        }
        backend.run(new Task(PAIRS, side, s.candidates(), whitening, blockRows, 0, centroids, s.nprobe()));
        // merge the partitions' pairs in pool order; a pair found from both ends keeps its better score
        List<long[]> keyParts = new ArrayList<>();
        List<float[]> scoreParts = new ArrayList<>();
        boolean[] flat = new boolean[n];
        long total = 0;
        for (int p = 0; p < partitions; p++) {
            AlignedCopyDetector.Scored read = CopyPassFiles.readPairs(store, p, poolOf, flat);
            long[] keys = read.keys();
            float[] scores = read.scores();
            keyParts.add(keys);
            scoreParts.add(scores);
            total += keys.length;
        }
        long[] all = new long[Math.toIntExact(total)];
        int o = 0;
        for (long[] k : keyParts) {
            System.arraycopy(k, 0, all, o, k.length);
            o += k.length;
        }
        long[] keys = Arrays.stream(all).sorted().distinct().toArray();
        float[] scores = new float[keys.length];
        Arrays.fill(scores, Float.NEGATIVE_INFINITY);
        for (int part = 0; part < keyParts.size(); part++) {
            long[] k = keyParts.get(part);
            float[] sc = scoreParts.get(part);
            for (int i = 0; i < k.length; i++) {
                int at = Arrays.binarySearch(keys, k[i]);
                scores[at] = Math.max(scores[at], sc[i]);
            }
        }
        return new Pairs(new AlignedCopyDetector.Scored(keys, scores), flat);
    }
}
