package dev.dinoj.actors.curate;

import com.typesafe.config.Config;
import dev.dinoj.actors.ClusterMessage;
import dev.dinoj.pipeline.embed.CopyEmbedder;
import dev.dinoj.pipeline.storage.StorageUri;

/**
 * The curation that precedes a run's training ({@code dinoj.actors.coordinator.run.curate}, or {@code "curate"} of a
 * submitted run): the pool is ingested by the curation workers partition by partition, the global stages run in the
 * coordinator, and the run trains on {@code curated:OUT}.
 *
 * @param source       the uncurated pool, {@code s3://bucket/prefix} or a directory every curation node can read
 * @param queries      query images for retrieval ("" = none)
 * @param out          where the curated dataset is written ({@code s3://…} or a shared directory)
 * @param targetSize   size of the curated set (0 = as selected)
 * @param embedder     retrieval/clustering embedder: {@code pixels:SIDE}, {@code thumbnail:SIDE}, {@code vit:CKPT}
 * @param copyEmbedder near-duplicate embedder, same syntax, or {@code same}
 * @param partitions   partitions of the pool (0 = {@code dinoj.actors.curation.partitions})
 */
public record CurateSpec(
        String source, String queries, String out, int targetSize, String embedder, String copyEmbedder, int partitions)
        implements ClusterMessage {

    /** Most partitions of a pool: the curation keeps a few values per partition, and each is a folder of results. */
    public static final int MAX_PARTITIONS = 4096;

    public CurateSpec {
        queries = queries == null ? "" : queries.trim();
        embedder = embedder == null || embedder.isBlank() ? "pixels:28" : embedder.trim();
        copyEmbedder = copyEmbedder == null || copyEmbedder.isBlank()
                ? "copy:" + CopyEmbedder.DEFAULT_SIDE
                : copyEmbedder.trim();
        if (source == null || source.isBlank()) {
            throw new IllegalArgumentException("curate.source is empty: give the pool (s3://bucket/prefix)");
        }
        if (out == null || out.isBlank()) {
            throw new IllegalArgumentException(
                    "curate.out is empty: give where the curated set goes (s3://bucket/prefix)");
        }
        if (targetSize < 0 || partitions < 0) {
            throw new IllegalArgumentException("curate.target-size and curate.partitions must be >= 0");
        }
        if (partitions > MAX_PARTITIONS) {
            throw new IllegalArgumentException(
                    "curate.partitions = " + partitions + " must be in [0, " + MAX_PARTITIONS + "] (0 = the node's)");
        }
        parse("curate.source", source);
        parse("curate.out", out);
        if (!queries.isEmpty()) {
            parse("curate.queries", queries);
        }
        Embedders.check("curate.embedder", embedder);
        if (!copyEmbedder.equals("same")) {
            Embedders.check("curate.copy-embedder", copyEmbedder);
        }
    }

    private static void parse(String key, String uri) {
        try {
            StorageUri.parse(uri);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(key + " = " + uri + ": " + e.getMessage());
        }
    }

    /** The {@code curate} block of a run config, or null when its {@code source} is empty. */
    public static CurateSpec fromConfig(Config run) {
        if (!run.hasPath("curate") || run.getString("curate.source").isBlank()) {
            return null;
        }
        Config c = run.getConfig("curate");
        return new CurateSpec(
                c.getString("source"),
                c.getString("queries"),
                c.getString("out"),
                c.getInt("target-size"),
                c.getString("embedder"),
                c.getString("copy-embedder"),
                c.getInt("partitions"));
    }

    /** The dataset spec the run trains on. */
    public String dataset() {
        return "curated:" + out;
    }
}
