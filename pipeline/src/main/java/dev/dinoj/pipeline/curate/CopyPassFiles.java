package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.pipeline.search.IvfIndex;
import dev.dinoj.pipeline.shards.ShardStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The files {@link ShardedCopyDetection}'s passes write beside each partition and read back (little-endian; a damaged
 * file is refused with its name):
 *
 * <ul>
 *   <li>{@link Partitions#copySample}: {@code "DJCSAMP1"}, int32 views, float32 views (raw low-pass views);</li>
 *   <li>{@link Partitions#copyLists}: {@code "DJCLIST1"}, int32 lists, int32 views, int32 list offsets (lists + 1),
 *       int32 global view ids (global image · VIEWS + view), float32 whitened views, grouped by list;</li>
 *   <li>{@link Partitions#copyPairs}: {@code "DJCPAIR1"}, int32 pairs, int32 uniform images, int64 keys (ascending),
 *       float32 scores, int32 uniform rows (global rows of the selection).</li>
 *   <li>{@link Partitions#excludeReferences} (one, at the root): {@code "DJXREFS1"}, int32 images, int32 columns,
 *       float32 thumbnails;</li>
 *   <li>{@link Partitions#excludeMatches}: {@code "DJXMTCH1"}, int32 pairs, then per verified pair int32 global row of
 *       the selection, int32 reference, float32 score.</li>
 * </ul>
 */
final class CopyPassFiles {
    /** Columns of a view descriptor. */
    static final int DIM = CopyDescriptors.CELLS * CopyDescriptors.CELLS;

    private static final byte[] PAIRS_MAGIC = "DJCPAIR1".getBytes(StandardCharsets.US_ASCII);

    private static final byte[] SAMPLE_MAGIC = "DJCSAMP1".getBytes(StandardCharsets.US_ASCII);

    private static final byte[] LISTS_MAGIC = "DJCLIST1".getBytes(StandardCharsets.US_ASCII);

    private static final byte[] REFERENCES_MAGIC = "DJXREFS1".getBytes(StandardCharsets.US_ASCII);

    private static final byte[] MATCHES_MAGIC = "DJXMTCH1".getBytes(StandardCharsets.US_ASCII);

    private CopyPassFiles() {}

    /** A growable float array. */
    static final class FloatList {
        float[] values = new float[1024];
        int size;

        void add(float[] src, int from, int length) {
            if (size + length > values.length) {
                values = Arrays.copyOf(values, Math.max(size + length, values.length * 2));
            }
            System.arraycopy(src, from, values, size, length);
            size += length;
        }
    }

    /** Writes partition {@code p}'s sample of views. */
    static void writeSample(ShardStore store, int p, FloatList sample) throws IOException {
        ByteBuffer out =
                ByteBuffer.allocate(SAMPLE_MAGIC.length + 4 + sample.size * 4).order(ByteOrder.LITTLE_ENDIAN);
        out.put(SAMPLE_MAGIC).putInt(sample.size / DIM);
        out.asFloatBuffer().put(sample.values, 0, sample.size);
        store.write(Partitions.copySample(p), out.position(0));
    }

    /** The partitions' samples of views, in partition order. */
    static FloatMatrix readSamples(ShardStore store, int partitions) throws IOException {
        FloatList all = new FloatList();
        for (int p = 0; p < partitions; p++) {
            String path = Partitions.copySample(p);
            ByteBuffer b = store.read(path).order(ByteOrder.LITTLE_ENDIAN);
            byte[] magic = new byte[SAMPLE_MAGIC.length];
            int rows = -1;
            if (b.remaining() >= magic.length + 4) {
                b.get(magic);
                rows = b.getInt();
            }
            if (!Arrays.equals(magic, SAMPLE_MAGIC) || rows < 0 || b.remaining() != (long) rows * DIM * 4) {
                throw new IllegalStateException(
                        store.describe(path) + ": not a sample of copy views (magic or length)");
            }
            float[] v = new float[rows * DIM];
            b.asFloatBuffer().get(v);
            all.add(v, 0, v.length);
        }
        return new FloatMatrix(all.size / DIM, DIM, Arrays.copyOf(all.values, all.size));
    }

    /**
     * Writes partition {@code p}'s inverted lists: list offsets {@code starts}, the partition's view rows in list
     * order {@code order}, their ids counted from {@code firstView}, the views {@code views} (row-major, partition
     * order).
     */
    static void writeLists(ShardStore store, int p, int[] starts, int[] order, long firstView, float[] views)
            throws IOException {
        int lists = starts.length - 1;
        int rows = order.length;
        ByteBuffer out = ByteBuffer.allocate(LISTS_MAGIC.length + 8 + (lists + 1) * 4 + rows * 4 + rows * DIM * 4)
                .order(ByteOrder.LITTLE_ENDIAN);
        out.put(LISTS_MAGIC).putInt(lists).putInt(rows);
        for (int s : starts) {
            out.putInt(s);
        }
        for (int r : order) {
            out.putInt(Math.toIntExact(firstView + r));
        }
        java.nio.FloatBuffer f = out.asFloatBuffer();
        for (int r : order) {
            f.put(views, r * DIM, DIM);
        }
        store.write(Partitions.copyLists(p), out.position(0));
    }

    /** Partition {@code q}'s inverted lists as an index with {@code centroids}. */
    static IvfIndex readLists(ShardStore store, int q, FloatMatrix centroids) throws IOException {
        String path = Partitions.copyLists(q);
        ByteBuffer b = store.read(path).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[LISTS_MAGIC.length];
        int lists = -1;
        int rows = -1;
        if (b.remaining() >= magic.length + 8) {
            b.get(magic);
            lists = b.getInt();
            rows = b.getInt();
        }
        if (!Arrays.equals(magic, LISTS_MAGIC)
                || lists != centroids.rows()
                || rows < 0
                || b.remaining() != (lists + 1L) * 4 + rows * 4L + (long) rows * DIM * 4) {
            throw new IllegalStateException(store.describe(path) + ": not inverted lists of " + centroids.rows()
                    + " lists (magic, list count or length)");
        }
        int[] starts = new int[lists + 1];
        b.asIntBuffer().get(starts);
        b.position(b.position() + starts.length * 4);
        int[] ids = new int[rows];
        b.asIntBuffer().get(ids);
        b.position(b.position() + rows * 4);
        float[] v = new float[rows * DIM];
        b.asFloatBuffer().get(v);
        return IvfIndex.ofLists(centroids, starts, ids, new FloatMatrix(rows, DIM, v));
    }

    /**
     * Writes partition {@code p}'s verified pairs (keys distinct, in any order; global rows) and its uniform images
     * ({@code flat}, by the partition's row; the partition's first global row {@code base}).
     */
    static void writePairs(ShardStore store, int p, long[] keys, float[] scores, boolean[] flat, int base)
            throws IOException {
        int flats = 0;
        for (boolean f : flat) {
            flats += f ? 1 : 0;
        }
        long[] sorted = keys.clone();
        Arrays.sort(sorted);
        float[] byKey = new float[keys.length];
        for (int i = 0; i < keys.length; i++) {
            byKey[Arrays.binarySearch(sorted, keys[i])] = scores[i];
        }
        ByteBuffer out = ByteBuffer.allocate(PAIRS_MAGIC.length + 8 + keys.length * 12 + flats * 4)
                .order(ByteOrder.LITTLE_ENDIAN);
        out.put(PAIRS_MAGIC).putInt(keys.length).putInt(flats);
        for (long k : sorted) {
            out.putLong(k);
        }
        for (float s : byKey) {
            out.putFloat(s);
        }
        for (int i = 0; i < flat.length; i++) {
            if (flat[i]) {
                out.putInt(base + i);
            }
        }
        store.write(Partitions.copyPairs(p), out.flip());
    }

    /**
     * Partition {@code p}'s pairs, renumbered in pool order ({@code poolOf}: the pool index of each global selection
     * row); its uniform images marked in {@code flat} (by pool index).
     */
    static AlignedCopyDetector.Scored readPairs(ShardStore store, int p, int[] poolOf, boolean[] flat)
            throws IOException {
        int n = poolOf.length;
        String path = Partitions.copyPairs(p);
        ByteBuffer b = store.read(path).order(ByteOrder.LITTLE_ENDIAN);
        if (b.remaining() < PAIRS_MAGIC.length + 8) {
            throw new IllegalStateException(store.describe(path) + ": not a copy-pairs file (too short)");
        }
        byte[] magic = new byte[PAIRS_MAGIC.length];
        b.get(magic);
        int pairs = b.getInt();
        int flats = b.getInt();
        if (!Arrays.equals(magic, PAIRS_MAGIC)
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
        return new AlignedCopyDetector.Scored(keys, scores);
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

    /** Writes the references of the exclusion. */
    static void writeReferences(ShardStore store, FloatMatrix refs) throws IOException {
        ByteBuffer out = ByteBuffer.allocate(REFERENCES_MAGIC.length + 8 + refs.data().length * 4)
                .order(ByteOrder.LITTLE_ENDIAN);
        out.put(REFERENCES_MAGIC).putInt(refs.rows()).putInt(refs.cols());
        out.asFloatBuffer().put(refs.data());
        store.write(Partitions.excludeReferences(), out.position(0));
    }

    /** The references of the exclusion, thumbnails of {@code side}. */
    static FloatMatrix readReferences(ShardStore store, int side) throws IOException {
        String path = Partitions.excludeReferences();
        ByteBuffer b = store.read(path).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[REFERENCES_MAGIC.length];
        int rows = -1;
        int cols = -1;
        if (b.remaining() >= magic.length + 8) {
            b.get(magic);
            rows = b.getInt();
            cols = b.getInt();
        }
        if (!Arrays.equals(magic, REFERENCES_MAGIC)
                || rows < 0
                || cols != side * side
                || b.remaining() != (long) rows * cols * 4) {
            throw new IllegalStateException(store.describe(path) + ": not the exclusion's copy:" + side
                    + " reference thumbnails (magic, columns or length)");
        }
        float[] v = new float[rows * cols];
        b.asFloatBuffer().get(v);
        return new FloatMatrix(rows, cols, v);
    }

    /**
     * Writes partition {@code p}'s verified exclusion pairs: keys {@code (global row << 32) | (n + reference)} and
     * their scores.
     */
    static void writeMatches(ShardStore store, int p, long[] keys, float[] scores, int n) throws IOException {
        ByteBuffer out =
                ByteBuffer.allocate(MATCHES_MAGIC.length + 4 + keys.length * 12).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MATCHES_MAGIC).putInt(keys.length);
        for (int i = 0; i < keys.length; i++) {
            out.putInt((int) (keys[i] >>> 32)).putInt((int) keys[i] - n).putFloat(scores[i]);
        }
        store.write(Partitions.excludeMatches(p), out.flip());
    }

    /** What {@link #readMatches} hands over: a verified pair of a selection row and a reference. */
    interface MatchSink {
        void accept(int row, int ref, float score);
    }

    /** Partition {@code p}'s verified exclusion pairs (rows below {@code n}, references below {@code refs}). */
    static void readMatches(ShardStore store, int p, int n, int refs, MatchSink sink) throws IOException {
        String path = Partitions.excludeMatches(p);
        ByteBuffer b = store.read(path).order(ByteOrder.LITTLE_ENDIAN);
        byte[] magic = new byte[MATCHES_MAGIC.length];
        int pairs = -1;
        if (b.remaining() >= magic.length + 4) {
            b.get(magic);
            pairs = b.getInt();
        }
        if (!Arrays.equals(magic, MATCHES_MAGIC) || pairs < 0 || b.remaining() != (long) pairs * 12) {
            throw new IllegalStateException(store.describe(path) + ": not an exclusion pairs file (magic or length)");
        }
        for (int i = 0; i < pairs; i++) {
            int row = checkRow(b.getInt(), n, path, store);
            int ref = b.getInt();
            if (ref < 0 || ref >= refs) {
                throw new IllegalStateException(
                        store.describe(path) + ": reference " + ref + " outside the " + refs + " references");
            }
            sink.accept(row, ref, b.getFloat());
        }
    }
}
