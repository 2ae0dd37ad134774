package dev.dinoj.actors.curate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.pipeline.curate.CopyEdits;
import dev.dinoj.pipeline.curate.Partitions;
import dev.dinoj.pipeline.data.IdxDataset;
import dev.dinoj.pipeline.ingest.ImageEncoding;
import dev.dinoj.pipeline.ingest.Manifest;
import dev.dinoj.pipeline.ingest.ManifestEntry;
import dev.dinoj.pipeline.ingest.ObjectState;
import dev.dinoj.testkit.FashionMnist;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code curate.exclude} on the cluster (one JVM: a cluster of one node with a curation worker and the driver, the
 * distributed clustering on): copies of reference images planted in a pool of unrelated Fashion-MNIST images end
 * {@code excluded}, naming the reference image, and the summary the driver writes counts them. Once with the default
 * copy embedder {@code copy:24} (the exclusion reads the copy-detection columns in the shards, on the curation worker:
 * {@link dev.dinoj.pipeline.curate.ShardedExclusion#exclude}), once with {@code thumbnail:20} (the workers store
 * the exclusion's thumbnails in front of it and the driver holds both and matches them in its heap).
 * Queries and a target size run the sharded retrieval and k-means behind those columns.
 */
@Timeout(300)
class CurationExcludeTest {
    private static final Set<Integer> ACCESSORIES = Set.of(5, 7, 8, 9);

    static final ActorTestKit kit = ActorTestKit.create(
            "dinoj",
            ConfigFactory.parseString("akka.remote.artery.canonical.port = 0\n"
                            + "akka.cluster.jmx.multi-mbeans-in-same-jvm = on\n"
                            + "dinoj.actors.curation { partitions = 3, min-workers = 1, distributed-clustering = on }\n"
                            + "dinoj.curate.retrieval { per-query = 10, per-cluster = 0 }\n"
                            + "dinoj.curate.hierarchy { levels = [3], resamples = 0, kmeans-iterations = 5 }\n")
                    .withFallback(ConfigFactory.load()));

    @AfterAll
    static void shutdown() {
        kit.shutdownTestKit();
    }

    @Test
    void copiesOfExcludedImagesShouldEndExcludedOnTheCluster(@TempDir Path dir) throws Exception {
        Cluster.get(kit.system())
                .manager()
                .tell(Join.create(Cluster.get(kit.system()).selfMember().address()));
        kit.spawn(CurationWorker.create(), "curation-worker");
        IdxDataset train = IdxDataset.fashionMnist(FashionMnist.assumeInstalled(), true);
        IdxDataset test = IdxDataset.fashionMnist(FashionMnist.assumeInstalled(), false);
        Path refs = Files.createDirectories(dir.resolve("refs"));
        int[] refIdx = new int[40];
        for (int i = 0, n = 0; n < refIdx.length; i++) {
            if (ACCESSORIES.contains(test.label(i))) {
                Files.write(refs.resolve(String.format(Locale.ROOT, "t%02d.png", n)), ImageEncoding.png(test.image(i)));
                refIdx[n++] = i;
            }
        }
        Path pool = Files.createDirectories(dir.resolve("pool"));
        for (int i = 0, n = 0; n < 45; i++) {
            if (!ACCESSORIES.contains(train.label(i))) {
                Files.write(
                        pool.resolve(String.format(Locale.ROOT, "train-%04d.png", i)),
                        ImageEncoding.png(train.image(i)));
                n++;
            }
        }
        Map<String, Integer> planted = new HashMap<>(); // pool key -> reference image
        SplittableRandom rnd = new SplittableRandom(11);
        CopyEdits.Kind[] kinds = {CopyEdits.Kind.CROP, CopyEdits.Kind.PHOTOMETRIC, CopyEdits.Kind.PAD};
        for (int c = 0; c < kinds.length; c++) {
            int ref = 5 + 13 * c;
            String key = "copy-of-" + ref + ".png";
            Files.write(
                    pool.resolve(key),
                    ImageEncoding.png(CopyEdits.make(test.image(refIdx[ref]), kinds[c], rnd)
                            .image()));
            planted.put(key, ref);
        }
        Path queries = Files.createDirectories(dir.resolve("queries"));
        for (int i = 3000, n = 0; n < 2; i++) {
            if (!ACCESSORIES.contains(train.label(i))) {
                Files.write(queries.resolve("q" + i + ".png"), ImageEncoding.png(train.image(i)));
                n++;
            }
        }
        String set = "folder:" + refs;

        for (String copyEmbedder : List.of("copy:24", "thumbnail:20")) {
            String tag = copyEmbedder.replace(':', '-');
            Path run = dir.resolve("run-" + tag);
            Path out = dir.resolve("out-" + tag);
            CurateSpec spec = new CurateSpec(
                    pool.toUri().toString(),
                    queries.toUri().toString(),
                    out.toUri().toString(),
                    12,
                    "pixels:28",
                    copyEmbedder,
                    0,
                    new String[] {set},
                    0);
            TestProbe<CurationDriver.Progress> listener = kit.createTestProbe();
            kit.spawn(CurationDriver.create(spec, run, listener.ref()), "driver-" + tag);
            CurationDriver.Progress last;
            do {
                last = listener.receiveMessage(Duration.ofSeconds(120));
            } while (!last.finished() && last.error().isEmpty());
            assertTrue(last.error().isEmpty(), copyEmbedder + ": " + last.error());

            // the workers' embedder: with copy:24, that of the same curation without exclusion (nothing stored twice)
            String plain = Embedders.of(
                            new CurateSpec(spec.source(), "", spec.out(), 0, "pixels:28", copyEmbedder, 0), 1)
                    .id();
            String stored = new ObjectMapper()
                    .readTree(Partitions.done(run, 0).resolve("part.json").toFile())
                    .get("embedder")
                    .asText();
            assertEquals(copyEmbedder.equals("copy:24"), stored.equals(plain), stored + " vs " + plain);

            assertEquals(
                    copyEmbedder.equals("copy:24"),
                    Files.exists(Partitions.root(run).resolve(Partitions.excludeMatches(0))),
                    copyEmbedder + ": the exclusion ran on the shards");

            Map<String, ManifestEntry> byKey = new HashMap<>();
            for (ManifestEntry e : Manifest.read(out.resolve("manifest.jsonl"))) {
                byKey.put(e.key(), e);
            }
            assertEquals(45 + planted.size(), byKey.size(), copyEmbedder);
            for (Map.Entry<String, Integer> p : planted.entrySet()) {
                ManifestEntry e = byKey.get(p.getKey());
                assertEquals(ObjectState.EXCLUDED, e.state(), copyEmbedder + " " + e);
                assertTrue(e.detail().contains(set + " #" + p.getValue() + " "), e.detail());
            }
            long wrong = byKey.values().stream()
                    .filter(e -> e.key().startsWith("train-") && e.state() == ObjectState.EXCLUDED)
                    .count();
            assertEquals(0, wrong, copyEmbedder);
            long kept = byKey.values().stream()
                    .filter(e -> Boolean.TRUE.equals(e.kept()))
                    .count();
            assertTrue(kept > 0 && kept <= 12, copyEmbedder + ": kept " + kept + " (target 12 after retrieval)");

            String table = Files.readString(Partitions.root(run).resolve("summary.txt"));
            Matcher m = Pattern.compile("(?m)^excluded\\s+(\\d+)").matcher(table);
            assertTrue(m.find(), table);
            assertEquals(planted.size(), Integer.parseInt(m.group(1)), table);
            JsonNode summary =
                    new ObjectMapper().readTree(out.resolve("summary.json").toFile());
            assertTrue(summary.toString().contains("\"excluded\":" + planted.size()), summary.toString());
            assertTrue(summary.toString().contains(set), "the summary names the excluded set: " + summary);
        }
    }
}
