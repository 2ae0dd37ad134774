package dev.dinoj.actors.curate;

import com.typesafe.config.Config;
import dev.dinoj.actors.ClusterMessage;
import dev.dinoj.pipeline.curate.AlignedCopyDetector;
import dev.dinoj.pipeline.embed.CopyEmbedder;
import dev.dinoj.pipeline.storage.StorageUri;
import dev.dinoj.trainer.config.ConfigError;
import dev.dinoj.trainer.config.DatasetSpec;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

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
 * @param exclude      image sets whose copies are dropped from the pool as {@code excluded} ({@code dinoj curate
 *                     --exclude}: {@code fashion-mnist:train|test}, {@code idx:FILE}, {@code folder:DIR}, {@code
 *                     curated:DIR|s3://…}), opened by the coordinator's curation driver; empty = none
 * @param excludeThreshold aligned-verification score of a copy of an excluded image (0 = {@link
 *                     AlignedCopyDetector#THRESHOLD})
 */
public record CurateSpec(
        String source,
        String queries,
        String out,
        int targetSize,
        String embedder,
        String copyEmbedder,
        int partitions,
        String[] exclude,
        float excludeThreshold)
        implements ClusterMessage {

    /** Most partitions of a pool: the curation keeps a few values per partition, and each is a folder of results. */
    public static final int MAX_PARTITIONS = 4096;

    /** Most {@code exclude} sets of one curation. */
    public static final int MAX_EXCLUDE = 64;

    /** Without exclusion. */
    public CurateSpec(
            String source,
            String queries,
            String out,
            int targetSize,
            String embedder,
            String copyEmbedder,
            int partitions) {
        this(source, queries, out, targetSize, embedder, copyEmbedder, partitions, new String[0], 0);
    }

    public CurateSpec {
        queries = queries == null ? "" : queries.trim();
        exclude = exclude == null ? new String[0] : exclude.clone();
        excludeThreshold = excludeThreshold == 0 ? AlignedCopyDetector.THRESHOLD : excludeThreshold;
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
        if (!(excludeThreshold > 0 && excludeThreshold <= 1)) {
            throw new IllegalArgumentException(
                    "curate.exclude-threshold = " + excludeThreshold + " must be in (0, 1] (0 = the default)");
        }
        if (exclude.length > MAX_EXCLUDE) {
            throw new IllegalArgumentException(
                    "curate.exclude names " + exclude.length + " sets; at most " + MAX_EXCLUDE);
        }
        for (int i = 0; i < exclude.length; i++) {
            if (exclude[i] == null) {
                throw new IllegalArgumentException("curate.exclude[" + i + "] is null");
            }
            exclude[i] = exclude[i].trim();
            try {
                DatasetSpec.parse(exclude[i], Path.of("."));
            } catch (ConfigError e) {
                throw new IllegalArgumentException("curate.exclude[" + i + "] = " + exclude[i]
                        + ": not an image set; use fashion-mnist:train|test, idx:FILE, folder:DIR or "
                        + "curated:DIR|s3://bucket/prefix");
            }
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
                c.getInt("partitions"),
                c.hasPath("exclude") ? c.getStringList("exclude").toArray(String[]::new) : new String[0],
                c.hasPath("exclude-threshold") ? (float) c.getDouble("exclude-threshold") : 0);
    }

    /** The exclusion sets as a list. */
    public List<String> excludeSets() {
        return List.of(exclude);
    }

    @Override
    public String[] exclude() {
        return exclude.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof CurateSpec c
                && source.equals(c.source)
                && queries.equals(c.queries)
                && out.equals(c.out)
                && targetSize == c.targetSize
                && embedder.equals(c.embedder)
                && copyEmbedder.equals(c.copyEmbedder)
                && partitions == c.partitions
                && Arrays.equals(exclude, c.exclude)
                && Float.compare(excludeThreshold, c.excludeThreshold) == 0;
    }

    @Override
    public int hashCode() {
        return Objects.hash(
                source,
                queries,
                out,
                targetSize,
                embedder,
                copyEmbedder,
                partitions,
                Arrays.hashCode(exclude),
                excludeThreshold);
    }

    @Override
    public String toString() {
        return "CurateSpec[source=" + source + ", queries=" + queries + ", out=" + out + ", targetSize=" + targetSize
                + ", embedder=" + embedder + ", copyEmbedder=" + copyEmbedder + ", partitions=" + partitions
                + ", exclude=" + Arrays.toString(exclude) + ", excludeThreshold=" + excludeThreshold + "]";
    }

    /** The dataset spec the run trains on. */
    public String dataset() {
        return "curated:" + out;
    }
}
