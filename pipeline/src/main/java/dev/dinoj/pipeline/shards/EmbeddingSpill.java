package dev.dinoj.pipeline.shards;

import dev.dinoj.pipeline.ingest.EmbeddingStore;
import dev.dinoj.pipeline.ingest.ManifestEntry;
import dev.dinoj.pipeline.ingest.ObjectState;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Spills a partition's embeddings to float16 shards after its ingestion: one row per {@code ingested} manifest entry
 * with an embedding, in manifest order, in {@code DIR} ({@link EmbeddingShards}), and the entries' keys, one per line
 * in row order, in {@code DIR/keys.txt}. The global stages then stream the partition instead of loading
 * {@code embeddings.bin} into a heap.
 */
public final class EmbeddingSpill {
    /** The key list of a spilled directory. */
    public static final String KEYS = "keys.txt";

    private EmbeddingSpill() {}

    /**
     * Writes the shards and the key list.
     *
     * @return rows written
     */
    public static long write(ShardStore store, String dir, List<ManifestEntry> entries, EmbeddingStore embeddings)
            throws IOException {
        StringBuilder keys = new StringBuilder();
        int dim = embeddings.dim();
        try (EmbeddingShards.Writer w =
                new EmbeddingShards.Writer(store, dir, dim, EmbeddingShards.DEFAULT_ROWS_PER_SHARD)) {
            for (ManifestEntry e : entries) {
                if (e.state() != ObjectState.INGESTED || e.sha256() == null) {
                    continue;
                }
                float[] v = embeddings.get(e.sha256());
                if (v == null) {
                    continue;
                }
                w.add(v, 1);
                keys.append(e.key()).append('\n');
            }
            store.write(dir + "/" + KEYS, ByteBuffer.wrap(keys.toString().getBytes(StandardCharsets.UTF_8)));
            return w.rows();
        }
    }
}
