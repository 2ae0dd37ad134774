package dev.dinoj.pipeline.curate;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Locale;

/**
 * How a pool is split among the curation workers of a cluster, and where the partial results live.
 *
 * <p>An object belongs to partition {@code fnv1a64(key) mod n} (FNV-1a over the key's UTF-8 bytes: the same on every JVM
 * and version). Partition {@code p}'s finished result is the
 * directory {@code RUN/curation/parts/part-0000p} (manifest.jsonl, embeddings.bin, part.json), renamed into place in
 * one step from a scratch directory under {@code RUN/curation/work}: it exists complete or not at all.
 */
public final class Partitions {

    private Partitions() {}

    /** The partition of object {@code key} among {@code n}. */
    public static int of(String key, int n) {
        long h = 0xcbf29ce484222325L;
        for (byte b : key.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x100000001b3L;
        }
        return (int) Math.floorMod(h, (long) n);
    }

    /** How many of {@code keys} (distinct) each of {@code n} partitions holds. */
    public static long[] counts(Collection<String> keys, int n) {
        long[] per = new long[n];
        for (String k : keys) {
            per[of(k, n)]++;
        }
        return per;
    }

    /** {@code RUN/curation}. */
    public static Path root(Path runDir) {
        return runDir.resolve("curation");
    }

    /** The finished result of partition {@code p}. */
    public static Path done(Path runDir, int p) {
        return root(runDir).resolve("parts").resolve(String.format(Locale.ROOT, "part-%05d", p));
    }

    /**
     * Partition {@code p}'s directory relative to {@link #root}: {@code parts/part-0000p}, the same on a local disk and
     * under an S3 prefix ({@link dev.dinoj.pipeline.shards.ShardStore}).
     */
    public static String relative(int p) {
        return String.format(Locale.ROOT, "parts/part-%05d", p);
    }

    /** Partition {@code p}'s float16 embedding shards, relative to {@link #root}. */
    public static String embeddings(int p) {
        return relative(p) + "/embeddings";
    }

    /** Partition {@code p}'s level-1 k-means assignment file, relative to {@link #root}. */
    public static String assignments(int p) {
        return relative(p) + "/kmeans-level1.bin";
    }

    /**
     * Partition {@code p}'s verified copy-detection candidate pairs ({@link ShardedCopyDetection}), relative to {@link
     * #root}.
     */
    public static String copyPairs(int p) {
        return relative(p) + "/copy-pairs.bin";
    }

    /**
     * Partition {@code p}'s sample of copy-detection views for the coarse quantizer of the approximate search ({@link
     * ShardedCopyDetection}), relative to {@link #root}.
     */
    public static String copySample(int p) {
        return relative(p) + "/copy-sample.bin";
    }

    /**
     * Partition {@code p}'s whitened copy-detection views in the approximate search's inverted lists ({@link
     * ShardedCopyDetection}), relative to {@link #root}.
     */
    public static String copyLists(int p) {
        return relative(p) + "/copy-lists.bin";
    }

    /**
     * The reference images of {@code curate --exclude} as copy thumbnails, for the sharded exclusion ({@link
     * ShardedExclusion#exclude}), relative to {@link #root}.
     */
    public static String excludeReferences() {
        return "exclude-references.bin";
    }

    /**
     * Partition {@code p}'s verified pairs of pool images and reference images ({@link ShardedExclusion#exclude}),
     * relative to {@link #root}.
     */
    public static String excludeMatches(int p) {
        return relative(p) + "/exclude-matches.bin";
    }

    /**
     * Partition {@code p}'s row selection named {@code name} ({@link dev.dinoj.pipeline.shards.RowSelection}: the rows
     * of its shards a global stage works on), relative to {@link #root}.
     */
    public static String selection(int p, String name) {
        if (!name.matches("[a-z0-9-]+")) {
            throw new IllegalArgumentException("selection name " + name + ": use [a-z0-9-]");
        }
        return relative(p) + "/" + name + ".rows";
    }

    /** A fresh scratch directory for one attempt at partition {@code p}. */
    public static Path scratch(Path runDir, int p, String attempt) {
        return root(runDir).resolve("work").resolve(String.format(Locale.ROOT, "part-%05d.%s", p, attempt));
    }
}
