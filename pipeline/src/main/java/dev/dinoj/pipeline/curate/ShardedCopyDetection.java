package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.search.FlatIndex;
import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.pipeline.search.RunningTopK;
import dev.dinoj.pipeline.shards.EmbeddingShards;
import dev.dinoj.pipeline.shards.ShardStore;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
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
 * rounding (sums of moments instead of centred sums) and the exact search (the in-heap detector switches to IVF above
 * {@code approximate-above}).
 */
public final class ShardedCopyDetection {
    /** The row selection the passes read: the pool's rows and its copy-detection columns. */
    public static final String SELECTION = "copies";

    /** Task kind: the moments of the views. */
    public static final int MOMENTS = 0;

    /** Task kind: candidate search and verification, pairs written beside the partition. */
    public static final int PAIRS = 1;

    private static final byte[] MAGIC = "DJCPAIR1".getBytes(StandardCharsets.US_ASCII);

    private ShardedCopyDetection() {}

    /**
     * One pass's work on a partition.
     *
     * @param kind       {@link #MOMENTS} or {@link #PAIRS}
     * @param side       the thumbnails' side
     * @param candidates other images verified per query image
     * @param whitening  {@link CopyWhitening#toArray} for {@link #PAIRS}, empty for {@link #MOMENTS}
     * @param blockRows  rows per block read from the shards
     */
    public record Task(int kind, int side, int candidates, double[] whitening, int blockRows) {
        public Task {
            if ((kind != MOMENTS && kind != PAIRS) || side < 2 || candidates < 1 || blockRows < 1) {
                throw new IllegalArgumentException("bad copy-detection task: kind " + kind + ", side " + side
                        + ", candidates " + candidates + ", block rows " + blockRows);
            }
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
     * Partition {@code p}'s share of {@code t} (a curation worker runs this): {@link #MOMENTS} answers the moments,
     * {@link #PAIRS} writes the partition's pairs and answers {@code [pairs, uniform images]}.
     */
    public static double[] run(ShardStore store, int partitions, int p, Task t) throws IOException {
        EmbeddingShards.Reader mine = ShardedKMeans.openPartition(store, p, SELECTION);
        int side = t.side();
        if (mine.dim() != side * side) {
            throw new IllegalArgumentException(store.describe(Partitions.selection(p, SELECTION)) + ": " + mine.dim()
                    + " columns, not the " + side + "² of copy:" + side);
        }
        if (t.kind() == MOMENTS) {
            double[][] total = {
                CopyWhitening.moments(new FloatMatrix(0, CopyDescriptors.CELLS * CopyDescriptors.CELLS, new float[0]))
            };
            mine.forEachBlock(
                    t.blockRows(),
                    (first, block) ->
                            total[0] = add(total[0], CopyWhitening.moments(CopyDescriptors.views(block, side))));
            return total[0];
        }
        return pairs(store, partitions, p, t, mine);
    }

    private static double[] pairs(ShardStore store, int partitions, int p, Task t, EmbeddingShards.Reader mine)
            throws IOException {
        int side = t.side();
        CopyWhitening w = CopyWhitening.of(t.whitening());
        List<EmbeddingShards.Reader> all = ShardedKMeans.open(store, partitions, SELECTION);
        long[] offset = new long[partitions + 1];
        for (int q = 0; q < partitions; q++) {
            offset[q + 1] = offset[q] + all.get(q).rows();
        }
        int base = Math.toIntExact(offset[p]);
        FloatMatrix xp = mine.readAll();
        int np = xp.rows();
        Map<Long, List<AlignedCopyDetector.Hint>> hints = new HashMap<>();
        AlignedCopyDetector.searchBlocks(
                (from, to) -> w.apply(CopyDescriptors.windows(xp, side, from, to)),
                (qs, k) -> nearestViews(all, w, side, qs, k, t.blockRows()),
                np,
                base,
                t.candidates(),
                true,
                (qi, dj, h) -> hints.computeIfAbsent(AlignedCopyDetector.key(qi, dj), x -> new ArrayList<>(2))
                        .add(h));
        // verify the pairs grouped by the partition of their other end (both ends here: this partition)
        TreeMap<Integer, List<Long>> byPartition = new TreeMap<>();
        for (long key : hints.keySet()) {
            int a = (int) (key >>> 32);
            int b = (int) key;
            int other = a >= base && a < base + np ? b : a;
            byPartition
                    .computeIfAbsent(partitionOf(offset, other), x -> new ArrayList<>())
                    .add(key);
        }
        long[] keys = new long[hints.size()];
        float[] scores = new float[keys.length];
        int filled = 0;
        for (Map.Entry<Integer, List<Long>> e : byPartition.entrySet()) {
            int q = e.getKey();
            long[] qKeys = e.getValue().stream().mapToLong(Long::longValue).toArray();
            long[] local = Arrays.stream(qKeys)
                    .map(k -> {
                        int a = (int) (k >>> 32);
                        int b = (int) k;
                        return (a >= base && a < base + np ? b : a) - offset[q];
                    })
                    .distinct()
                    .sorted()
                    .toArray();
            FloatMatrix others = all.get(q).rows(local);
            float[] data = Arrays.copyOf(xp.data(), xp.data().length + others.data().length);
            System.arraycopy(others.data(), 0, data, xp.data().length, others.data().length);
            FloatMatrix both = new FloatMatrix(np + local.length, side * side, data);
            long qBase = offset[q];
            float[] s = AlignedCopyDetector.verify(
                    data,
                    side,
                    qKeys,
                    hints,
                    g -> g >= base && g < base + np ? g - base : np + Arrays.binarySearch(local, g - qBase),
                    AlignedCopyDetector.flat(both, side));
            System.arraycopy(qKeys, 0, keys, filled, qKeys.length);
            System.arraycopy(s, 0, scores, filled, s.length);
            filled += qKeys.length;
        }
        boolean[] flat = AlignedCopyDetector.flat(xp, side);
        int flats = 0;
        for (boolean f : flat) {
            flats += f ? 1 : 0;
        }
        Integer[] order = new Integer[keys.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (x, y) -> Long.compare(keys[x], keys[y]));
        ByteBuffer out = ByteBuffer.allocate(MAGIC.length + 8 + keys.length * 12 + flats * 4)
                .order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).putInt(keys.length).putInt(flats);
        for (Integer i : order) {
            out.putLong(keys[i]);
        }
        for (Integer i : order) {
            out.putFloat(scores[i]);
        }
        for (int i = 0; i < np; i++) {
            if (flat[i]) {
                out.putInt(base + i);
            }
        }
        store.write(Partitions.copyPairs(p), out.flip());
        return new double[] {keys.length, flats};
    }

    /** The partition of global row {@code g}. */
    private static int partitionOf(long[] offset, long g) {
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
    private static dev.dinoj.pipeline.search.Neighbors nearestViews(
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
        int d = CopyDescriptors.CELLS * CopyDescriptors.CELLS;
        double[] m = backend.run(new Task(MOMENTS, side, s.candidates(), new double[0], blockRows));
        CopyWhitening w = CopyWhitening.fromMoments(m, d);
        backend.run(new Task(PAIRS, side, s.candidates(), w.toArray(), blockRows));
        // merge the partitions' pairs in pool order; a pair found from both ends keeps its better score
        List<long[]> keyParts = new ArrayList<>();
        List<float[]> scoreParts = new ArrayList<>();
        boolean[] flat = new boolean[n];
        long total = 0;
        for (int p = 0; p < partitions; p++) {
            String path = Partitions.copyPairs(p);
            ByteBuffer b = store.read(path).order(ByteOrder.LITTLE_ENDIAN);
            if (b.remaining() < MAGIC.length + 8) {
                throw new IllegalStateException(store.describe(path) + ": not a copy-pairs file (too short)");
            }
            byte[] magic = new byte[MAGIC.length];
            b.get(magic);
            int pairs = b.getInt();
            int flats = b.getInt();
            if (!Arrays.equals(magic, MAGIC)
                    || pairs < 0
                    || flats < 0
                    || b.remaining() != (long) pairs * 12 + (long) flats * 4) {
                throw new IllegalStateException(store.describe(path) + ": not a copy-pairs file (magic or length)");
            }
            long[] keys = new long[pairs];
            float[] scores = new float[pairs];
            for (int i = 0; i < pairs; i++) {
                keys[i] = remap(b.getLong(), poolOf, path, store);
            }
            for (int i = 0; i < pairs; i++) {
                scores[i] = b.getFloat();
            }
            for (int i = 0; i < flats; i++) {
                flat[poolOf[checkRow(b.getInt(), n, path, store)]] = true;
            }
            keyParts.add(keys);
            scoreParts.add(scores);
            total += pairs;
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

    private static long remap(long key, int[] poolOf, String path, ShardStore store) {
        int a = checkRow((int) (key >>> 32), poolOf.length, path, store);
        int b = checkRow((int) key, poolOf.length, path, store);
        return AlignedCopyDetector.key(poolOf[a], poolOf[b]);
    }

    private static int checkRow(int row, int n, String path, ShardStore store) {
        if (row < 0 || row >= n) {
            throw new IllegalStateException(
                    store.describe(path) + ": row " + row + " outside the selection's " + n + " rows");
        }
        return row;
    }
}
