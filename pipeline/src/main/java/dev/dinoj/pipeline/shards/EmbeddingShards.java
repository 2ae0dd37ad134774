package dev.dinoj.pipeline.shards;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.pipeline.search.FloatMatrix;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Embeddings as float16 shards: a directory {@code DIR} of a {@link ShardStore} holding {@code DIR/index.json}
 * ({@code {"format":"dinoj-f16-shards/1","rows":N,"dim":D,"dtype":"float16","rows_per_shard":R,"shards":[…]}}) and
 * the shards {@code DIR/shard-00000.f16}, … of {@code R} rows each (the last one fewer).
 *
 * <p>A shard is little-endian: the 8 bytes {@code DJF16SH1}, int32 rows, int32 dim, int32 dtype (1 = IEEE float16),
 * int32 0 (24 bytes), then {@code rows × dim} halves, row-major. A shard whose magic, header or length is wrong, or
 * that disagrees with the index, is refused with one line naming the file ({@link CorruptShardException}).
 */
public final class EmbeddingShards {
    /** The index file of a shard directory. */
    public static final String INDEX = "index.json";
    /** The format string of the index. */
    public static final String FORMAT = "dinoj-f16-shards/1";
    /** Default rows per shard (12 MiB at d = 384). */
    public static final int DEFAULT_ROWS_PER_SHARD = 16_384;

    static final byte[] MAGIC = "DJF16SH1".getBytes(StandardCharsets.US_ASCII);
    static final int HEADER = 24;
    static final int DTYPE_FLOAT16 = 1;
    private static final ObjectMapper JSON = new ObjectMapper();

    private EmbeddingShards() {}

    /** The name of shard {@code i}. */
    public static String shardName(int i) {
        return String.format(Locale.ROOT, "shard-%05d.f16", i);
    }

    private static String child(String dir, String name) {
        return dir.isEmpty() ? name : dir + "/" + name;
    }

    /** A shard, a header and its body, refused with one line naming the file. */
    public static final class CorruptShardException extends RuntimeException {
        public CorruptShardException(String message) {
            super(message);
        }
    }

    /** Encodes {@code rows} rows of {@code data} (row-major floats) as one shard. */
    public static ByteBuffer encode(float[] data, int rows, int dim) {
        ByteBuffer b = ByteBuffer.allocate(HEADER + rows * dim * 2).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(rows).putInt(dim).putInt(DTYPE_FLOAT16).putInt(0);
        for (int i = 0, e = rows * dim; i < e; i++) {
            b.putShort(Float16.fromFloat(data[i]));
        }
        return b.flip();
    }

    /**
     * Checks a shard's header and length.
     *
     * @return the number of rows
     */
    static int checkShard(ByteBuffer b, String name, int dim, int expectedRows) {
        if (b.capacity() < HEADER) {
            throw new CorruptShardException(
                    name + ": not a float16 shard (" + b.capacity() + " bytes, under the " + HEADER + "-byte header)");
        }
        byte[] magic = new byte[MAGIC.length];
        b.get(0, magic);
        if (!Arrays.equals(magic, MAGIC)) {
            throw new CorruptShardException(name + ": not a float16 shard (bad magic)");
        }
        int rows = b.getInt(8);
        int d = b.getInt(12);
        int dtype = b.getInt(16);
        if (dtype != DTYPE_FLOAT16) {
            throw new CorruptShardException(name + ": dtype " + dtype + ", only 1 (float16) is known");
        }
        if (d != dim || rows != expectedRows) {
            throw new CorruptShardException(name + ": header says " + rows + " rows of dim " + d + ", the index "
                    + expectedRows + " of dim " + dim);
        }
        long need = HEADER + (long) rows * dim * 2;
        if (b.capacity() != need) {
            throw new CorruptShardException(name + ": " + b.capacity() + " bytes, its header (" + rows + " rows, dim "
                    + dim + ") needs " + need + (b.capacity() < need ? " (truncated)" : ""));
        }
        return rows;
    }

    /** Writes rows into consecutive shards of a directory, then the index. Not thread-safe. */
    public static final class Writer implements AutoCloseable {
        private final ShardStore store;
        private final String dir;
        private final int dim;
        private final int rowsPerShard;
        private final float[] buffer;
        private final List<String> shards = new ArrayList<>();
        private int buffered;
        private long rows;
        private boolean closed;

        /**
         * @param store        where
         * @param dir          the shard directory, relative to the store ("" = its root)
         * @param dim          the dimension
         * @param rowsPerShard rows of every shard but the last
         */
        public Writer(ShardStore store, String dir, int dim, int rowsPerShard) {
            if (dim < 1 || rowsPerShard < 1) {
                throw new IllegalArgumentException("dim and rows per shard must be >= 1: " + dim + ", " + rowsPerShard);
            }
            this.store = store;
            this.dir = dir;
            this.dim = dim;
            this.rowsPerShard = rowsPerShard;
            this.buffer = new float[rowsPerShard * dim];
        }

        /** Appends {@code count} rows from {@code data} (row-major, from row 0). */
        public void add(float[] data, int count) throws IOException {
            if ((long) count * dim > data.length) {
                throw new IllegalArgumentException(count + " rows of dim " + dim + " but " + data.length + " values");
            }
            int done = 0;
            while (done < count) {
                int take = Math.min(count - done, rowsPerShard - buffered);
                System.arraycopy(data, done * dim, buffer, buffered * dim, take * dim);
                buffered += take;
                done += take;
                if (buffered == rowsPerShard) {
                    flush();
                }
            }
        }

        /** Appends the rows of {@code m}. */
        public void add(FloatMatrix m) throws IOException {
            if (m.cols() != dim) {
                throw new IllegalArgumentException("rows of dim " + m.cols() + " into shards of dim " + dim);
            }
            add(m.data(), m.rows());
        }

        private void flush() throws IOException {
            if (buffered == 0) {
                return;
            }
            String name = shardName(shards.size());
            store.write(child(dir, name), encode(buffer, buffered, dim));
            shards.add(name);
            rows += buffered;
            buffered = 0;
        }

        /** Rows written so far (flushed or buffered). */
        public long rows() {
            return rows + buffered;
        }

        /** Writes the last shard and the index. */
        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            flush();
            ObjectNode idx = JSON.createObjectNode();
            idx.put("format", FORMAT);
            idx.put("rows", rows);
            idx.put("dim", dim);
            idx.put("dtype", "float16");
            idx.put("rows_per_shard", rowsPerShard);
            ArrayNode a = idx.putArray("shards");
            shards.forEach(a::add);
            store.write(child(dir, INDEX), ByteBuffer.wrap(JSON.writeValueAsBytes(idx)));
        }
    }

    /** Consumer of row blocks. */
    @FunctionalInterface
    public interface BlockConsumer {
        /** Rows {@code [first, first + block.rows())} of the directory. */
        void accept(long first, FloatMatrix block) throws IOException;
    }

    /**
     * Reads a shard directory a block of rows at a time; never holds more than one shard. A reader may be restricted
     * to some rows ({@link #select}): it then reads as if the directory held those rows only, in their order.
     */
    public static final class Reader {
        private final ShardStore store;
        private final String dir;
        private final long rows;
        private final int dim;
        private final int rowsPerShard;
        private final List<String> shards;
        /** The directory's rows this reader reads, ascending; null = all. */
        private final int[] selected;
        /** The columns it reads: {@code [col0, col0 + width)}. */
        private final int col0;

        private final int width;

        private Reader(
                ShardStore store,
                String dir,
                long rows,
                int dim,
                int rowsPerShard,
                List<String> shards,
                int[] selected,
                int col0,
                int width) {
            this.store = store;
            this.dir = dir;
            this.rows = rows;
            this.dim = dim;
            this.rowsPerShard = rowsPerShard;
            this.shards = shards;
            this.selected = selected;
            this.col0 = col0;
            this.width = width;
        }

        /**
         * This directory restricted to the rows and columns of {@code s} (a selection of this reader's rows, which
         * must be all of the directory's): row {@code i} of the result is row {@code s.rows()[i]} of the directory, its
         * columns those of the selection.
         */
        public Reader select(RowSelection s) {
            if (selected != null) {
                throw new IllegalStateException(store.describe(dir) + ": already a selection");
            }
            if (s.of() != rows) {
                throw new IllegalArgumentException(
                        "a selection of " + s.of() + " rows for " + store.describe(dir) + " of " + rows + " rows");
            }
            int w = s.columns() == 0 ? dim - s.firstColumn() : s.columns();
            if (w < 1 || s.firstColumn() + w > dim) {
                throw new IllegalArgumentException("columns " + s.firstColumn() + " + " + s.columns() + " of "
                        + store.describe(dir) + ", which has " + dim);
            }
            return new Reader(store, dir, rows, dim, rowsPerShard, shards, s.rows(), s.firstColumn(), w);
        }

        /** Opens the directory {@code dir} of {@code store} (reads its index). */
        public static Reader open(ShardStore store, String dir) throws IOException {
            String idxPath = child(dir, INDEX);
            JsonNode idx;
            try {
                ByteBuffer b = store.read(idxPath);
                byte[] bytes = new byte[b.remaining()];
                b.get(bytes);
                idx = JSON.readTree(bytes);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new CorruptShardException(
                        store.describe(idxPath) + ": not a shard index (" + e.getOriginalMessage() + ")");
            }
            if (!FORMAT.equals(idx.path("format").asText())) {
                throw new CorruptShardException(
                        store.describe(idxPath) + ": format " + idx.path("format") + ", expected " + FORMAT);
            }
            long rows = idx.path("rows").asLong(-1);
            int dim = idx.path("dim").asInt(0);
            int rps = idx.path("rows_per_shard").asInt(0);
            List<String> shards = new ArrayList<>();
            idx.path("shards").forEach(s -> shards.add(s.asText()));
            long expectShards = rps < 1 ? -1 : (rows + rps - 1) / rps;
            if (rows < 0 || dim < 1 || rps < 1 || shards.size() != expectShards) {
                throw new CorruptShardException(store.describe(idxPath) + ": " + rows + " rows of dim " + dim + " in "
                        + shards.size() + " shards of " + rps + " rows do not add up");
            }
            for (String s : shards) {
                if (!s.matches("shard-\\d{5,}\\.f16")) {
                    throw new CorruptShardException(store.describe(idxPath) + ": shard name " + s + " refused");
                }
            }
            return new Reader(store, dir, rows, dim, rps, List.copyOf(shards), null, 0, dim);
        }

        /** Rows this reader reads (the selected ones, or all the directory's). */
        public long rows() {
            return selected == null ? rows : selected.length;
        }

        /** Columns this reader reads (the selected ones, or all the directory's). */
        public int dim() {
            return width;
        }

        public int shardCount() {
            return shards.size();
        }

        private int rowsOf(int shard) {
            return (int) Math.min(rowsPerShard, rows - (long) shard * rowsPerShard);
        }

        /** Shard {@code i}, checked (mapped for a local store, fetched whole from an object store). */
        public ByteBuffer shard(int i) throws IOException {
            String path = child(dir, shards.get(i));
            ByteBuffer b = store.read(path);
            checkShard(b, store.describe(path), dim, rowsOf(i));
            return b;
        }

        /**
         * Calls {@code f} with consecutive blocks of at most {@code blockRows} rows (a block never spans two shards),
         * decoded to float.
         */
        public void forEachBlock(int blockRows, BlockConsumer f) throws IOException {
            if (selected != null) {
                forEachSelectedBlock(blockRows, f);
                return;
            }
            long first = 0;
            float[] buf = null;
            for (int s = 0; s < shards.size(); s++) {
                ShortBuffer halves = shard(s).position(HEADER)
                        .slice()
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .asShortBuffer();
                int n = rowsOf(s);
                for (int r = 0; r < n; r += blockRows) {
                    int len = Math.min(blockRows, n - r);
                    float[] out = len * dim == (buf == null ? -1 : buf.length) ? buf : new float[len * dim];
                    buf = out;
                    int base = r * dim;
                    for (int j = 0; j < len * dim; j++) {
                        out[j] = Float16.toFloat(halves.get(base + j));
                    }
                    f.accept(first + r, new FloatMatrix(len, dim, out));
                }
                first += n;
            }
        }

        /** {@link #forEachBlock} of a selection: blocks of selected rows, numbered in the selection. */
        private void forEachSelectedBlock(int blockRows, BlockConsumer f) throws IOException {
            int i = 0;
            float[] buf = null;
            while (i < selected.length) {
                int s = selected[i] / rowsPerShard;
                ShortBuffer halves = shard(s).position(HEADER)
                        .slice()
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .asShortBuffer();
                int end = i;
                while (end < selected.length && selected[end] / rowsPerShard == s) {
                    end++;
                }
                for (int r = i; r < end; r += blockRows) {
                    int len = Math.min(blockRows, end - r);
                    float[] out = len * width == (buf == null ? -1 : buf.length) ? buf : new float[len * width];
                    buf = out;
                    for (int j = 0; j < len; j++) {
                        int base = (selected[r + j] - s * rowsPerShard) * dim + col0;
                        for (int c = 0; c < width; c++) {
                            out[j * width + c] = Float16.toFloat(halves.get(base + c));
                        }
                    }
                    f.accept(r, new FloatMatrix(len, width, out));
                }
                i = end;
            }
        }

        /** The rows {@code ids} (sorted ascending, distinct; numbered in the selection if any), in that order. */
        public FloatMatrix rows(long[] ids) throws IOException {
            if (selected != null) {
                long[] under = new long[ids.length];
                for (int i = 0; i < ids.length; i++) {
                    under[i] = selected[Math.toIntExact(ids[i])];
                }
                FloatMatrix m = new Reader(store, dir, rows, dim, rowsPerShard, shards, null, 0, dim).rows(under);
                return width == dim ? m : m.columns(col0, col0 + width);
            }
            float[] out = new float[ids.length * dim];
            int i = 0;
            while (i < ids.length) {
                int s = (int) (ids[i] / rowsPerShard);
                ShortBuffer halves = shard(s).position(HEADER)
                        .slice()
                        .order(ByteOrder.LITTLE_ENDIAN)
                        .asShortBuffer();
                while (i < ids.length && ids[i] / rowsPerShard == s) {
                    int base = (int) (ids[i] - (long) s * rowsPerShard) * dim;
                    for (int j = 0; j < dim; j++) {
                        out[i * dim + j] = Float16.toFloat(halves.get(base + j));
                    }
                    i++;
                }
            }
            return new FloatMatrix(ids.length, dim, out);
        }

        /** Every row in one matrix (for small directories and tests). */
        public FloatMatrix readAll() throws IOException {
            long rows = rows();
            if (rows * dim > Integer.MAX_VALUE - 8) {
                throw new IllegalStateException(rows + " rows of dim " + dim + " do not fit in one array");
            }
            int dim = width;
            float[] all = new float[(int) rows * dim];
            forEachBlock(
                    rowsPerShard, (first, b) -> System.arraycopy(b.data(), 0, all, (int) first * dim, b.data().length));
            return new FloatMatrix((int) rows, dim, all);
        }
    }
}
