package dev.dinoj.pipeline.shards;

import dev.dinoj.pipeline.shards.EmbeddingShards.CorruptShardException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The rows and columns of one shard directory that a global stage works on (the rows that survived deduplication,
 * exclusion and retrieval; the retrieval embedding's columns, after the copy-detection ones), written by the curation
 * driver beside a partition's shards so that every node streams the same values. Little-endian: the 8 bytes
 * {@code DJROWS01}, int64 rows of the directory, int32 first column, int32 columns (0 = through the last), int32
 * count, then {@code count} int32 row numbers, strictly ascending.
 *
 * @param of          rows of the shard directory the selection is of
 * @param firstColumn first column read
 * @param columns     columns read from {@code firstColumn} on; 0 = through the last
 * @param rows        selected row numbers, strictly ascending, each below {@code of}
 */
public record RowSelection(long of, int firstColumn, int columns, int[] rows) {
    private static final byte[] MAGIC = "DJROWS01".getBytes(StandardCharsets.US_ASCII);
    private static final int HEADER = 28;

    /** Rows {@code rows} of a directory of {@code of} rows, every column. */
    public RowSelection(long of, int[] rows) {
        this(of, 0, 0, rows);
    }

    public RowSelection {
        if (firstColumn < 0 || columns < 0) {
            throw new IllegalArgumentException("columns " + firstColumn + " + " + columns + " refused");
        }
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || rows[i] >= of || (i > 0 && rows[i] <= rows[i - 1])) {
                throw new IllegalArgumentException(
                        "selected rows must ascend within [0, " + of + "): row " + rows[i] + " at " + i);
            }
        }
    }

    /** Every row of a directory of {@code of} rows. */
    public static RowSelection all(long of) {
        if (of > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a shard directory of " + of + " rows is over 2^31");
        }
        int[] r = new int[(int) of];
        Arrays.setAll(r, i -> i);
        return new RowSelection(of, r);
    }

    /** Writes to {@code path} of {@code store}. */
    public void write(ShardStore store, String path) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(HEADER + 4 * rows.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putLong(of).putInt(firstColumn).putInt(columns).putInt(rows.length);
        for (int r : rows) {
            b.putInt(r);
        }
        store.write(path, b.flip());
    }

    /**
     * Reads {@code path} of {@code store}, the selection of a directory of {@code of} rows.
     *
     * @throws CorruptShardException naming the file when it is not a selection of {@code of} rows
     */
    public static RowSelection read(ShardStore store, String path, long of) throws IOException {
        ByteBuffer b = store.read(path).order(ByteOrder.LITTLE_ENDIAN);
        String name = store.describe(path);
        if (b.capacity() < HEADER) {
            throw new CorruptShardException(name + ": not a row selection (" + b.capacity() + " bytes)");
        }
        byte[] magic = new byte[MAGIC.length];
        b.get(0, magic);
        long rowsOf = b.getLong(8);
        int first = b.getInt(16);
        int cols = b.getInt(20);
        int count = b.getInt(24);
        if (!Arrays.equals(magic, MAGIC) || rowsOf != of || count < 0 || b.capacity() != HEADER + 4L * count) {
            throw new CorruptShardException(name + ": not a row selection of " + of + " rows (header: " + count + " of "
                    + rowsOf + " rows, " + b.capacity() + " bytes)");
        }
        int[] rows = new int[count];
        b.position(HEADER);
        b.slice().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(rows);
        try {
            return new RowSelection(of, first, cols, rows);
        } catch (IllegalArgumentException e) {
            throw new CorruptShardException(name + ": " + e.getMessage());
        }
    }
}
