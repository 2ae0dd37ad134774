package dev.dinoj.actors.curate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.actors.data.StorageSystem;
import dev.dinoj.pipeline.curate.CurateJob;
import dev.dinoj.pipeline.curate.Curation;
import dev.dinoj.pipeline.curate.CurationSettings;
import dev.dinoj.pipeline.curate.PartitionMerge;
import dev.dinoj.pipeline.curate.Partitions;
import dev.dinoj.pipeline.curate.ShardedKMeans;
import dev.dinoj.pipeline.curate.ShardedSelection;
import dev.dinoj.pipeline.embed.Embedder;
import dev.dinoj.pipeline.ingest.EmbeddingStore;
import dev.dinoj.pipeline.ingest.ManifestEntry;
import dev.dinoj.pipeline.shards.ShardStore;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster's {@code curate} with {@code distributed-clustering = on}, on three cluster nodes (three actor systems
 * over Artery on loopback): 10 classes of 30 images plus exact copies, 5 query images, a target of 100. The driver
 * merges only the copy-detection columns; retrieval streams the shards and the k-means passes run on the three
 * workers over the rows that survived dedup and retrieval. The curated set equals, key for key, the one the same
 * stages give in one JVM ({@link ShardedKMeans.Local}); against the single-heap stages (every column merged, in-heap
 * {@code Retrieval} and {@code HierarchicalKMeans}) the retrieval is the same and the clustering's inertia within 1 %.
 */
@Timeout(300)
class DistributedCurationTest {

    static final String SETTINGS =
            "dinoj.actors.curation { partitions = 4, min-workers = 3, distributed-clustering = on }\n"
                    + "dinoj.curate.retrieval { per-query = 40, per-cluster = 0 }\n"
                    + "dinoj.curate.hierarchy { levels = [5], resamples = 0, kmeans-iterations = 10 }\n"
                    + "dinoj.curate.near-duplicate.threshold = 0.9995\n";

    @Test
    void shouldCurateAsTheOneJvmStagesWithTheClusteringOnTheWorkers(@TempDir Path dir) throws Exception {
        Path pool = dir.resolve("pool");
        Path queries = dir.resolve("queries");
        Files.createDirectories(pool);
        Files.createDirectories(queries);
        Random rnd = new Random(5);
        int[][] protos = new int[10][64];
        for (int[] p : protos) {
            for (int i = 0; i < 64; i++) {
                p[i] = 40 + rnd.nextInt(176);
            }
        }
        Set<String> objects = new TreeSet<>();
        for (int c = 0; c < 10; c++) {
            for (int i = 0; i < 30; i++) {
                String name = String.format("c%d-%02d.png", c, i);
                write(protos[c], rnd, pool.resolve(name));
                objects.add(name);
            }
        }
        for (int i = 0; i < 3; i++) { // exact copies: one kept per content
            Files.copy(pool.resolve("c" + i + "-00.png"), pool.resolve("copy-" + i + ".png"));
            objects.add("copy-" + i + ".png");
        }
        for (int c = 0; c < 5; c++) {
            write(protos[2 * c], rnd, queries.resolve("q" + c + ".png"));
        }

        Path run = dir.resolve("run");
        Path out = dir.resolve("out");
        CurateSpec spec = new CurateSpec(
                pool.toUri().toString(),
                queries.toUri().toString(),
                out.toUri().toString(),
                100,
                "pixels:8",
                "thumbnail:8",
                0);
        try (CurationNodes nodes = CurationNodes.start(3, SETTINGS)) {
            nodes.curate(spec, run, Duration.ofSeconds(240));
        }
        Set<String> curated = new TreeSet<>();
        ObjectMapper json = new ObjectMapper();
        for (String line : Files.readAllLines(out.resolve("index.jsonl"))) {
            if (!line.isBlank()) {
                curated.add(json.readTree(line).get("key").asText());
            }
        }
        assertEquals(100, curated.size());
        for (int p = 0; p < 4; p++) { // the stages ran on the shards: their row selections are beside them
            for (String stage : List.of(ShardedSelection.RETRIEVAL, ShardedSelection.CLUSTERING)) {
                assertTrue(Files.exists(Partitions.root(run).resolve(Partitions.selection(p, stage))), stage);
            }
        }

        // the same stages in one JVM, over the same partitions
        Config app = ConfigFactory.parseString(SETTINGS).withFallback(ConfigFactory.load());
        CurationSettings cs = CurationSettings.fromConfig(app);
        StorageSettings ss = StorageSettings.fromConfig(app);
        ShardStore shards = ShardStore.local(Partitions.root(run));
        Curation.Result oneJvm;
        Curation.Result heap;
        Map<String, float[]> vectors = new HashMap<>();
        int copyDims;
        try (Embedder e = Embedders.of(spec, 64)) {
            copyDims = Embedders.copyDims(e);
            Curation.Queries q =
                    CurateJob.embedQueries(StorageSystem.get(app), StorageUri.parse(spec.queries()), e, cs, ss);
            try (EmbeddingStore copyOnly = EmbeddingStore.inMemory(copyDims, e.id());
                    EmbeddingStore all = EmbeddingStore.inMemory(e.dim(), e.id())) {
                List<ManifestEntry> entries = PartitionMerge.merge(run, 4, objects, spec.source(), copyOnly, e.dim());
                oneJvm = Curation.run(
                        entries,
                        copyOnly,
                        q,
                        100,
                        copyDims,
                        CurateJob.alignedSide(e),
                        null,
                        new ShardedSelection(
                                shards,
                                4,
                                entries,
                                ShardedSelection.Backends.local(shards, 4, ShardedKMeans.DEFAULT_BLOCK_ROWS),
                                copyDims,
                                ShardedKMeans.DEFAULT_BLOCK_ROWS),
                        cs,
                        null);
                heap = Curation.run(
                        PartitionMerge.merge(run, 4, objects, spec.source(), all), all, q, 100, copyDims, cs, null);
                for (ManifestEntry m : entries) {
                    if (m.sha256() != null && all.get(m.sha256()) != null) {
                        vectors.put(m.key(), all.get(m.sha256()));
                    }
                }
            }
        }
        assertEquals(keys(oneJvm.curated()), curated, "the distributed curation is the one-JVM one");
        assertEquals(300, heap.summary().pool());
        assertEquals(heap.summary().pool(), oneJvm.summary().pool());
        assertEquals(heap.summary().deduplicated(), oneJvm.summary().deduplicated());
        assertEquals(heap.summary().retrievedPerQuery(), oneJvm.summary().retrievedPerQuery());
        double a = inertia(heap, vectors, copyDims);
        double b = inertia(oneJvm, vectors, copyDims);
        assertTrue(Math.abs(a - b) / a < 0.01, "level-1 inertia: in heap " + a + ", on the workers " + b);
    }

    /** Sum of squared distances of the clustered images (retrieval columns) to their level-1 cluster's mean. */
    static double inertia(Curation.Result r, Map<String, float[]> vectors, int from) {
        Map<Integer, List<float[]>> members = new HashMap<>();
        for (ManifestEntry m : r.manifest()) {
            if (m.cluster() != null) {
                float[] v = vectors.get(m.key());
                members.computeIfAbsent(m.cluster()[m.cluster().length - 1], c -> new ArrayList<>())
                        .add(java.util.Arrays.copyOfRange(v, from, v.length));
            }
        }
        assertTrue(members.values().stream().mapToInt(List::size).sum() > 100, "clustered images: " + members);
        double sum = 0;
        for (List<float[]> rows : members.values()) {
            int d = rows.get(0).length;
            double[] mean = new double[d];
            for (float[] v : rows) {
                for (int j = 0; j < d; j++) {
                    mean[j] += v[j] / rows.size();
                }
            }
            for (float[] v : rows) {
                for (int j = 0; j < d; j++) {
                    sum += (v[j] - mean[j]) * (v[j] - mean[j]);
                }
            }
        }
        return sum;
    }

    static Set<String> keys(List<ManifestEntry> entries) {
        Set<String> out = new TreeSet<>();
        entries.forEach(e -> out.add(e.key()));
        return out;
    }

    /** An 8x8 prototype scaled to 16x16 with pixel noise. */
    static void write(int[] proto, Random rnd, Path file) throws Exception {
        BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                int v = proto[(y / 2) * 8 + x / 2] + rnd.nextInt(61) - 30;
                img.getRaster().setSample(x, y, 0, Math.max(0, Math.min(255, v)));
            }
        }
        ImageIO.write(img, "png", file.toFile());
    }
}
