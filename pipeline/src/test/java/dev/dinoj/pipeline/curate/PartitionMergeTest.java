package dev.dinoj.pipeline.curate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.pipeline.ingest.EmbeddingStore;
import dev.dinoj.pipeline.ingest.Manifest;
import dev.dinoj.pipeline.ingest.ManifestEntry;
import dev.dinoj.pipeline.ingest.ObjectState;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Partial results written as the curation workers write them, merged back and checked. */
class PartitionMergeTest {
    static final int N = 3;
    static final int DIM = 2;
    static final String EMBEDDER = "pixels:1";

    @Test
    void shouldMergeEveryPartitionsManifestAndEmbeddings(@TempDir Path run) throws Exception {
        Set<String> listed = keys(12);
        listed.add("pool/archive.idx");
        writeAll(run, listed, "pool/archive.idx", EMBEDDER);
        try (EmbeddingStore merged = EmbeddingStore.inMemory(DIM, EMBEDDER)) {
            List<ManifestEntry> all = PartitionMerge.merge(run, N, listed, "pool", merged);
            assertEquals(listed.size() + 2, all.size(), "every object, plus the archive's two members");
            assertEquals(listed.size() + 1, merged.size(), "an embedding per image (the archive's line has none)");
            for (ManifestEntry e : all) {
                if (e.isArchive()) {
                    continue;
                }
                float[] v = merged.get(e.sha256());
                assertArrayEquals(new float[] {e.key().length(), Partitions.of(archiveOrSelf(e.key()), N)}, v, e.key());
            }
        }
        assertEquals("node-1", PartitionMerge.ingestedOn(Partitions.done(run, 1)));
        assertEquals("", PartitionMerge.ingestedOn(run.resolve("nowhere")));
    }

    @Test
    void shouldRefuseAnObjectThatNoPartitionRecorded(@TempDir Path run) throws Exception {
        Set<String> listed = keys(9);
        writeAll(run, listed, null, EMBEDDER);
        listed.add("pool/late.png");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> merge(run, listed));
        assertTrue(
                e.getMessage().contains("1 objects of pool are in no partition's manifest, first pool/late.png"),
                e.getMessage());
    }

    @Test
    void shouldRefuseAnObjectRecordedByAnotherPartition(@TempDir Path run) throws Exception {
        Set<String> listed = keys(9);
        writeAll(run, listed, null, EMBEDDER);
        String stray = listed.stream()
                .filter(k -> Partitions.of(k, N) != 0)
                .findFirst()
                .orElseThrow();
        write(run, 0, List.of(entry(stray)), EMBEDDER);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> merge(run, listed));
        assertTrue(
                e.getMessage()
                        .contains("object " + stray + " was recorded by partition 0 but belongs to partition "
                                + Partitions.of(stray, N)),
                e.getMessage());
    }

    @Test
    void shouldRefuseAKeyTheListingDoesNotHave(@TempDir Path run) throws Exception {
        Set<String> listed = keys(9);
        writeAll(run, listed, null, EMBEDDER);
        Set<String> fewer = new HashSet<>(listed);
        String gone = listed.iterator().next();
        fewer.remove(gone);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> merge(run, fewer));
        assertTrue(
                e.getMessage().contains("recorded " + gone + ", which the listing of pool does not have"),
                e.getMessage());
    }

    @Test
    void shouldRefuseAPartitionOfAnotherEmbedder(@TempDir Path run) throws Exception {
        Set<String> listed = keys(9);
        writeAll(run, listed, null, "thumbnail:1");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> merge(run, listed));
        assertTrue(
                e.getMessage()
                        .contains("was ingested with embedder thumbnail:1 over 3 partitions; this curation uses "
                                + EMBEDDER + " over 3: delete " + Partitions.root(run)),
                e.getMessage());
    }

    @Test
    void shouldRecordAFinishedCurationForItsSourceAndOutOnly(@TempDir Path run) throws Exception {
        Files.createDirectories(Partitions.root(run));
        assertTrue(!CurationRecord.finished(run, "s3://b/pool", "s3://b/out"));
        new CurationRecord(
                        "s3://b/pool", "s3://b/out", "curated:s3://b/out", 26, 28, 24, List.of("n1", "n2", "n1"), 1.5)
                .write(run, "table\n");
        assertTrue(CurationRecord.finished(run, "s3://b/pool", "s3://b/out"));
        assertTrue(!CurationRecord.finished(run, "s3://b/pool", "s3://b/other"));
        assertTrue(!CurationRecord.finished(run, "s3://b/pool2", "s3://b/out"));
        var done = new ObjectMapper()
                .readTree(Partitions.root(run).resolve("done.json").toFile());
        assertEquals(3, done.get("partitions").asInt());
        assertEquals("n2", done.get("partition_nodes").get(1).asText());
        assertEquals(24, done.get("kept").asInt());
        assertEquals("table\n", Files.readString(Partitions.root(run).resolve("summary.txt")));
    }

    private static List<ManifestEntry> merge(Path run, Set<String> listed) throws Exception {
        try (EmbeddingStore merged = EmbeddingStore.inMemory(DIM, EMBEDDER)) {
            return PartitionMerge.merge(run, N, listed, "pool", merged);
        }
    }

    private static Set<String> keys(int n) {
        Set<String> out = new HashSet<>();
        for (int i = 0; i < n; i++) {
            out.add(String.format("pool/%d/%05d.png", i % 3, i));
        }
        return out;
    }

    /** Each partition's directory as a worker leaves it; {@code archive} (if listed) expands into two members. */
    private static void writeAll(Path run, Set<String> listed, String archive, String embedder) throws Exception {
        Map<Integer, List<String>> byPartition =
                listed.stream().collect(Collectors.groupingBy(k -> Partitions.of(k, N)));
        for (int p = 0; p < N; p++) {
            List<ManifestEntry> entries = new ArrayList<>();
            for (String k : byPartition.getOrDefault(p, List.of())) {
                if (k.equals(archive)) {
                    entries.add(ManifestEntry.of(k, "e", 10, ObjectState.INGESTED, "")
                            .withMembers(2));
                    entries.add(entry(k + "#0"));
                    entries.add(entry(k + "#1"));
                } else {
                    entries.add(entry(k));
                }
            }
            write(run, p, entries, embedder);
        }
    }

    private static ManifestEntry entry(String key) {
        try {
            byte[] sha =
                    java.security.MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return ManifestEntry.of(key, "e", 1, ObjectState.INGESTED, "")
                    .withSha(HexFormat.of().formatHex(sha));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String archiveOrSelf(String key) {
        String a = ManifestEntry.archiveOf(key);
        return a == null ? key : a;
    }

    private static void write(Path run, int p, List<ManifestEntry> entries, String embedder) throws Exception {
        Path dir = Partitions.done(run, p);
        Files.createDirectories(dir);
        Files.deleteIfExists(dir.resolve("manifest.jsonl"));
        Files.deleteIfExists(dir.resolve("embeddings.bin"));
        try (Manifest m = Manifest.open(dir.resolve("manifest.jsonl"));
                EmbeddingStore s = EmbeddingStore.open(dir.resolve("embeddings.bin"), DIM, embedder)) {
            m.append(entries);
            for (ManifestEntry e : entries) {
                if (e.sha256() != null) {
                    s.putAll(new String[] {e.sha256()}, new float[] {
                        e.key().length(), Partitions.of(archiveOrSelf(e.key()), N)
                    });
                }
            }
        }
        Files.writeString(
                dir.resolve("part.json"),
                "{\"partition\": " + p + ", \"partitions\": " + N + ", \"node\": \"node-" + p + "\", \"embedder\": \""
                        + embedder + "\"}");
    }
}
