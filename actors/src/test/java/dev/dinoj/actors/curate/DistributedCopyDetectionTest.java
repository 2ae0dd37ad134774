package dev.dinoj.actors.curate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.actors.data.StorageSystem;
import dev.dinoj.pipeline.curate.CopyEdits;
import dev.dinoj.pipeline.curate.CurateJob;
import dev.dinoj.pipeline.curate.Curation;
import dev.dinoj.pipeline.curate.CurationSettings;
import dev.dinoj.pipeline.curate.PartitionMerge;
import dev.dinoj.pipeline.curate.Partitions;
import dev.dinoj.pipeline.curate.ShardedCopyDetection;
import dev.dinoj.pipeline.curate.ShardedKMeans;
import dev.dinoj.pipeline.curate.ShardedSelection;
import dev.dinoj.pipeline.data.IdxDataset;
import dev.dinoj.pipeline.embed.Embedder;
import dev.dinoj.pipeline.ingest.EmbeddingStore;
import dev.dinoj.pipeline.ingest.ImageEncoding;
import dev.dinoj.pipeline.ingest.Manifest;
import dev.dinoj.pipeline.ingest.ManifestEntry;
import dev.dinoj.pipeline.ingest.ObjectState;
import dev.dinoj.pipeline.shards.ShardStore;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import dev.dinoj.testkit.FashionMnist;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cluster's {@code curate} with the default copy embedder {@code copy:24} on three cluster nodes (three actor
 * systems over Artery on loopback): the aligned copy detection runs on the shards and the curation workers ({@link
 * ShardedCopyDetection}: each partition's inverted lists and pairs file beside it; the pool is over {@code
 * approximate-above}), the driver holding one placeholder column per image.
 * Copies of every edit kind planted among Fashion-MNIST images end {@code near_duplicate}, and the manifest equals
 * the one the same stages give in one JVM ({@link ShardedCopyDetection.Backend#local}); against the detection in one
 * heap on the float32 embeddings ({@code dinoj curate}'s), the same planted copies are caught and at most two
 * borderline images differ (float16 rows: on this pool, one Fashion-MNIST look-alike).
 */
@Timeout(600)
class DistributedCopyDetectionTest {

    static final String SETTINGS =
            "dinoj.actors.curation { partitions = 4, min-workers = 3, distributed-clustering = on }\n"
                    + "dinoj.curate.retrieval { per-query = 30, per-cluster = 0 }\n"
                    + "dinoj.curate.hierarchy { levels = [4], resamples = 0, kmeans-iterations = 5 }\n"
                    // the pool's 164 images are over it: the copy search takes the approximate path (its sample, coarse
                    // quantizer and inverted lists on the shards), probing all of its 13 lists (nprobe 16), so exactly
                    + "dinoj.curate.search.approximate-above = 100\n";

    @Test
    void copiesShouldBeFoundOnTheWorkersAsInOneJvm(@TempDir Path dir) throws Exception {
        IdxDataset train = IdxDataset.fashionMnist(FashionMnist.assumeInstalled(), true);
        Path pool = Files.createDirectories(dir.resolve("pool"));
        Path queries = Files.createDirectories(dir.resolve("queries"));
        Set<String> objects = new TreeSet<>();
        int originals = 150;
        for (int i = 0; i < originals; i++) {
            String key = String.format(Locale.ROOT, "train-%04d.png", i);
            Files.write(pool.resolve(key), ImageEncoding.png(train.image(i)));
            objects.add(key);
        }
        Map<String, String> planted = new TreeMap<>(); // copy -> original
        SplittableRandom rnd = new SplittableRandom(7);
        CopyEdits.Kind[] kinds = CopyEdits.Kind.values();
        for (int c = 0; c < 14; c++) {
            int of = 3 + 10 * c;
            String key = String.format(Locale.ROOT, "x-copy-%02d.png", c);
            Files.write(
                    pool.resolve(key),
                    ImageEncoding.png(CopyEdits.make(train.image(of), kinds[c % kinds.length], rnd)
                            .image()));
            planted.put(key, String.format(Locale.ROOT, "train-%04d.png", of));
            objects.add(key);
        }
        for (int i = 0; i < 2; i++) {
            Files.write(queries.resolve("q" + i + ".png"), ImageEncoding.png(train.image(5000 + i)));
        }
        Path run = dir.resolve("run");
        Path out = dir.resolve("out");
        CurateSpec spec = new CurateSpec(
                pool.toUri().toString(),
                queries.toUri().toString(),
                out.toUri().toString(),
                40,
                "pixels:28",
                "copy:24",
                0);
        try (CurationNodes nodes = CurationNodes.start(3, SETTINGS)) {
            nodes.curate(spec, run, Duration.ofSeconds(400));
        }
        for (int p = 0; p < 4; p++) { // the detection ran on the shards
            assertTrue(Files.exists(Partitions.root(run).resolve(Partitions.copyPairs(p))), "pairs of partition " + p);
            assertTrue(Files.exists(Partitions.root(run).resolve(Partitions.copyLists(p))), "lists of partition " + p);
        }
        Set<String> distributed = nearDuplicates(Manifest.read(out.resolve("manifest.jsonl")));
        int caught = 0;
        for (Map.Entry<String, String> e : planted.entrySet()) {
            caught += distributed.contains(e.getKey()) || distributed.contains(e.getValue()) ? 1 : 0;
        }
        System.out.println("near duplicates on the cluster: " + distributed + "; planted pairs caught: " + caught
                + " of " + planted.size());
        assertTrue(caught >= planted.size() - 2, caught + " of " + planted.size() + " planted copies caught");
        assertTrue(distributed.size() <= planted.size() + 2, "near duplicates: " + distributed);

        // the same stages in one JVM (the driver's one column, the partitions in turn), and the detection in one heap
        Config app = ConfigFactory.parseString(SETTINGS).withFallback(ConfigFactory.load());
        CurationSettings cs = CurationSettings.fromConfig(app);
        StorageSettings ss = StorageSettings.fromConfig(app);
        ShardStore shards = ShardStore.local(Partitions.root(run));
        Curation.Result oneJvm;
        Curation.Result heap;
        try (Embedder e = Embedders.of(spec, 64)) {
            int copyDims = Embedders.copyDims(e);
            int side = CurateJob.alignedSide(e);
            assertEquals(24, side);
            Curation.Queries q =
                    CurateJob.embedQueries(StorageSystem.get(app), StorageUri.parse(spec.queries()), e, cs, ss);
            try (EmbeddingStore one = EmbeddingStore.inMemory(1, e.id());
                    EmbeddingStore all = EmbeddingStore.inMemory(e.dim(), e.id())) {
                List<ManifestEntry> entries = PartitionMerge.merge(run, 4, objects, spec.source(), one, e.dim());
                oneJvm = Curation.run(
                        entries,
                        one,
                        q,
                        40,
                        copyDims,
                        side,
                        null,
                        new ShardedSelection(
                                shards,
                                4,
                                entries,
                                ShardedSelection.Backends.local(shards, 4, ShardedKMeans.DEFAULT_BLOCK_ROWS),
                                copyDims,
                                ShardedKMeans.DEFAULT_BLOCK_ROWS,
                                new ShardedSelection.Copies(
                                        0, copyDims, ShardedCopyDetection.Backend.local(shards, 4))),
                        cs,
                        null);
                heap = Curation.run(
                        PartitionMerge.merge(run, 4, objects, spec.source(), all),
                        all,
                        q,
                        40,
                        copyDims,
                        side,
                        null,
                        null,
                        cs,
                        null);
            }
        }
        assertEquals(nearDuplicates(oneJvm.manifest()), distributed, "the cluster's copies are the one-JVM ones");
        assertEquals(
                DistributedCurationTest.keys(oneJvm.curated()),
                DistributedCurationTest.keys(Manifest.read(out.resolve("manifest.jsonl")).stream()
                        .filter(m -> Boolean.TRUE.equals(m.kept()))
                        .toList()),
                "the curated set is the one-JVM one");
        Set<String> inHeap = nearDuplicates(heap.manifest());
        System.out.println("near duplicates in one heap (float32): " + inHeap);
        // float16 rows against float32: a borderline look-alike may fall on either side of the threshold
        Set<String> differ = new TreeSet<>(inHeap);
        differ.addAll(distributed);
        Set<String> both = new TreeSet<>(inHeap);
        both.retainAll(distributed);
        differ.removeAll(both);
        assertTrue(differ.size() <= 2, "near duplicates in one of them only: " + differ);
        for (String copy : planted.keySet()) {
            assertEquals(inHeap.contains(copy), distributed.contains(copy), copy);
        }
    }

    private static Set<String> nearDuplicates(List<ManifestEntry> manifest) {
        Set<String> out = new TreeSet<>();
        for (ManifestEntry m : manifest) {
            if (m.state() == ObjectState.NEAR_DUPLICATE) {
                out.add(m.key());
            }
        }
        return out;
    }
}
