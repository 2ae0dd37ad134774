package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.shards.EmbeddingShards.CorruptShardException;
import dev.dinoj.pipeline.shards.ShardStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A partition's level-1 k-means assignment, the partial result a worker writes beside its partition
 * ({@link Partitions#assignments}): little-endian, the 8 bytes {@code DJASGN01}, int32 rows, int32 k, then int32
 * cluster and float32 squared distance of every row.
 *
 * @param cluster  nearest centroid of every row of the partition
 * @param distance squared L2 distance to it
 * @param k        number of centroids
 */
public record PartitionAssignments(int[] cluster, float[] distance, int k) {
    private static final byte[] MAGIC = "DJASGN01".getBytes(StandardCharsets.US_ASCII);

    /** Writes to {@code path} of {@code store}. */
    public void write(ShardStore store, String path) throws IOException {
        int n = cluster.length;
        ByteBuffer b = ByteBuffer.allocate(16 + 8 * n).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).putInt(n).putInt(k);
        for (int c : cluster) {
            b.putInt(c);
        }
        for (float d : distance) {
            b.putFloat(d);
        }
        store.write(path, b.flip());
    }

    /** Reads {@code path} of {@code store}, which must hold {@code rows} rows. */
    public static PartitionAssignments read(ShardStore store, String path, long rows) throws IOException {
        ByteBuffer b = store.read(path);
        String name = store.describe(path);
        byte[] magic = new byte[MAGIC.length];
        if (b.capacity() < 16) {
            throw new CorruptShardException(name + ": not an assignment file (" + b.capacity() + " bytes)");
        }
        b.get(0, magic);
        int n = b.getInt(8);
        int k = b.getInt(12);
        if (!Arrays.equals(magic, MAGIC) || n != rows || k < 1 || b.capacity() != 16 + 8L * n) {
            throw new CorruptShardException(name + ": not the assignment of " + rows + " rows (header " + n
                    + " rows, k " + k + ", " + b.capacity() + " bytes)");
        }
        int[] c = new int[n];
        float[] d = new float[n];
        b.position(16);
        b.asIntBuffer().get(c);
        b.position(16 + 4 * n);
        b.asFloatBuffer().get(d);
        return new PartitionAssignments(c, d, k);
    }
}
