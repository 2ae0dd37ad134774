package dev.dinoj.pipeline.ingest;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.util.regex.Pattern;

/**
 * Ingestion knobs ({@code dinoj.curate.ingest} in {@code reference.conf}).
 *
 * @param downloadParallelism objects downloaded at once (bounded by the HTTP pool too)
 * @param decodeParallelism   objects decoded at once (CPU-bound; 0 = one per core)
 * @param embedBatch          images per embedder call
 * @param maxObjectBytes      objects above this are {@code too_large} without being downloaded
 * @param maxExpandedBytes    a gzip stream may expand to at most this many bytes (decompression-bomb guard)
 * @param maxImagePixels      width × height above this is {@code too_large}, checked from the header before decoding
 * @param minImageSide        images with a side below this are {@code filtered}
 * @param decodeMaxSide       larger images are subsampled while decoding so that their longer side is at most this
 * @param keyFilter           keys must match this regular expression (find), or they are {@code filtered}; empty = all
 * @param maxArchiveMembers   IDX archives with more images than this are {@code too_large} (each image becomes a
 *                            manifest line and an embedding)
 */
public record IngestSettings(
        int downloadParallelism,
        int decodeParallelism,
        int embedBatch,
        long maxObjectBytes,
        long maxExpandedBytes,
        long maxImagePixels,
        int minImageSide,
        int decodeMaxSide,
        String keyFilter,
        int maxArchiveMembers) {

    public IngestSettings {
        if (downloadParallelism < 1) {
            throw bad("download-parallelism", "must be >= 1: " + downloadParallelism);
        }
        if (decodeParallelism < 0) {
            throw bad("decode-parallelism", "must be >= 0: " + decodeParallelism);
        }
        if (embedBatch < 1) {
            throw bad("embed-batch", "must be >= 1: " + embedBatch);
        }
        if (maxObjectBytes < 1 || maxExpandedBytes < 1 || maxImagePixels < 1) {
            throw bad("max-object-size", "size limits must be positive");
        }
        if (maxObjectBytes > Integer.MAX_VALUE - 16 || maxExpandedBytes > Integer.MAX_VALUE - 16) {
            throw bad("max-object-size", "limits above 2 GiB are not supported (objects are read into memory)");
        }
        if (minImageSide < 1 || decodeMaxSide < minImageSide) {
            throw bad(
                    "min-image-side",
                    "need 1 <= min-image-side <= decode-max-side: " + minImageSide + ", " + decodeMaxSide);
        }
        if (maxArchiveMembers < 1) {
            throw bad("max-archive-members", "must be >= 1: " + maxArchiveMembers);
        }
        keyFilter = keyFilter == null ? "" : keyFilter;
        try {
            Pattern.compile(keyFilter);
        } catch (RuntimeException e) {
            throw bad("key-filter", "not a regular expression: " + e.getMessage());
        }
    }

    private static ConfigException bad(String key, String msg) {
        return new ConfigException.BadValue("dinoj.curate.ingest." + key, msg);
    }

    /** The {@code reference.conf} defaults. */
    public static IngestSettings defaults() {
        return new IngestSettings(8, 0, 256, 256L << 20, 1L << 30, 89_478_485L, 8, 512, "", 1_000_000);
    }

    /** Reads the {@code dinoj.curate.ingest} block. */
    public static IngestSettings fromConfig(Config root) {
        Config c = root.getConfig("dinoj.curate.ingest");
        return new IngestSettings(
                c.getInt("download-parallelism"),
                c.getInt("decode-parallelism"),
                c.getInt("embed-batch"),
                c.getBytes("max-object-size"),
                c.getBytes("max-expanded-size"),
                c.getLong("max-image-pixels"),
                c.getInt("min-image-side"),
                c.getInt("decode-max-side"),
                c.getString("key-filter"),
                c.getInt("max-archive-members"));
    }

    /** Decode threads: {@link #decodeParallelism()} or one per core. */
    public int decodeThreads() {
        return decodeParallelism > 0 ? decodeParallelism : Runtime.getRuntime().availableProcessors();
    }

    public IngestSettings withDownloadParallelism(int n) {
        return new IngestSettings(
                n,
                decodeParallelism,
                embedBatch,
                maxObjectBytes,
                maxExpandedBytes,
                maxImagePixels,
                minImageSide,
                decodeMaxSide,
                keyFilter,
                maxArchiveMembers);
    }

    public IngestSettings withEmbedBatch(int n) {
        return new IngestSettings(
                downloadParallelism,
                decodeParallelism,
                n,
                maxObjectBytes,
                maxExpandedBytes,
                maxImagePixels,
                minImageSide,
                decodeMaxSide,
                keyFilter,
                maxArchiveMembers);
    }

    public IngestSettings withLimits(long objectBytes, long expandedBytes, long imagePixels) {
        return new IngestSettings(
                downloadParallelism,
                decodeParallelism,
                embedBatch,
                objectBytes,
                expandedBytes,
                imagePixels,
                minImageSide,
                decodeMaxSide,
                keyFilter,
                maxArchiveMembers);
    }

    public IngestSettings withKeyFilter(String regex) {
        return new IngestSettings(
                downloadParallelism,
                decodeParallelism,
                embedBatch,
                maxObjectBytes,
                maxExpandedBytes,
                maxImagePixels,
                minImageSide,
                decodeMaxSide,
                regex,
                maxArchiveMembers);
    }

    public IngestSettings withMaxArchiveMembers(int n) {
        return new IngestSettings(
                downloadParallelism,
                decodeParallelism,
                embedBatch,
                maxObjectBytes,
                maxExpandedBytes,
                maxImagePixels,
                minImageSide,
                decodeMaxSide,
                keyFilter,
                n);
    }
}
