package dev.dinoj.pipeline.curate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.pipeline.ingest.EmbeddingStore;
import dev.dinoj.pipeline.ingest.Manifest;
import dev.dinoj.pipeline.ingest.ManifestEntry;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Merges the partial results of a partitioned ingestion (one directory per partition, {@link Partitions#done}, with
 * part.json, manifest.jsonl and embeddings.bin) into one manifest and one embedding store, and checks the accounting:
 * every listed object is in exactly one partition's manifest, the one its key hashes to, and a manifest holds nothing
 * else but the members of its own archives.
 */
public final class PartitionMerge {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PartitionMerge() {}

    /**
     * Reads the {@code n} partitions of {@code runDir} into {@code into} (whose dimension and embedder id every partition
     * must have been ingested with).
     *
     * @param listed the keys of the pool's listing
     * @param source the pool, for the messages
     * @return every partition's manifest entries, in partition order
     * @throws IllegalStateException naming the object or partition whose accounting is wrong, or the partition ingested
     *                               with another embedder or partition count
     */
    public static List<ManifestEntry> merge(Path runDir, int n, Set<String> listed, String source, EmbeddingStore into)
            throws IOException {
        return merge(runDir, n, listed, source, into, into.dim());
    }

    /**
     * As {@link #merge(Path, int, Set, String, EmbeddingStore)}, the partitions' embeddings being {@code dim} wide and
     * {@code into} keeping only their first {@code into.dim()} columns (the copy-detection ones: the cluster's driver
     * does not hold the retrieval columns, which stay in the partitions' shards).
     */
    public static List<ManifestEntry> merge(
            Path runDir, int n, Set<String> listed, String source, EmbeddingStore into, int dim) throws IOException {
        if (into.dim() > dim) {
            throw new IllegalArgumentException("cannot keep " + into.dim() + " of " + dim + " columns");
        }
        List<ManifestEntry> all = new ArrayList<>();
        Map<String, Integer> seen = new HashMap<>();
        for (int p = 0; p < n; p++) {
            Path dir = Partitions.done(runDir, p);
            JsonNode info = JSON.readTree(dir.resolve("part.json").toFile());
            String id = info.path("embedder").asText("");
            if (!id.equals(into.embedderId()) || info.path("partitions").asInt() != n) {
                throw new IllegalStateException(dir + " was ingested with embedder " + id + " over "
                        + info.path("partitions").asInt() + " partitions; this curation uses " + into.embedderId()
                        + " over "
                        + n + ": delete " + Partitions.root(runDir) + " to curate afresh");
            }
            List<ManifestEntry> entries = Manifest.read(dir.resolve("manifest.jsonl"));
            check(p, n, entries, listed, seen, source);
            all.addAll(entries);
            try (EmbeddingStore part = EmbeddingStore.open(dir.resolve("embeddings.bin"), dim, into.embedderId())) {
                int keep = into.dim();
                part.forEach((sha, v) ->
                        into.putAll(new String[] {sha}, keep == dim ? v : java.util.Arrays.copyOf(v, keep)));
            }
        }
        if (seen.size() != listed.size()) {
            List<String> missing = new ArrayList<>();
            for (String k : listed) {
                if (!seen.containsKey(k)) {
                    missing.add(k);
                }
            }
            missing.sort(null);
            throw new IllegalStateException(missing.size() + " objects of " + source + " are in no partition's "
                    + "manifest, first " + missing.get(0) + " (partition " + Partitions.of(missing.get(0), n) + ")");
        }
        return all;
    }

    /** Checks partition {@code p}'s entries and records its listed objects in {@code seen} (key to partition). */
    private static void check(
            int p, int n, List<ManifestEntry> entries, Set<String> listed, Map<String, Integer> seen, String source) {
        Set<String> archives = new HashSet<>();
        for (ManifestEntry e : entries) {
            if (e.isArchive()) {
                archives.add(e.key());
            }
        }
        for (ManifestEntry e : entries) {
            String key = e.key();
            if (listed.contains(key)) {
                int home = Partitions.of(key, n);
                if (home != p) {
                    throw new IllegalStateException(
                            "object " + key + " was recorded by partition " + p + " but belongs to partition " + home);
                }
                Integer before = seen.put(key, p);
                if (before != null) {
                    throw new IllegalStateException("object " + key + " is in partitions " + before + " and " + p);
                }
            } else {
                int hash = key.lastIndexOf('#');
                if (hash < 0 || !archives.contains(key.substring(0, hash))) {
                    throw new IllegalStateException("partition " + p + " recorded " + key + ", which the listing of "
                            + source + " does not have");
                }
            }
        }
    }

    /** The node that ingested the finished partition in {@code partDir} (its part.json), or "" when unknown. */
    public static String ingestedOn(Path partDir) {
        try {
            return JSON.readTree(partDir.resolve("part.json").toFile())
                    .path("node")
                    .asText("");
        } catch (IOException e) {
            return "";
        }
    }
}
