package dev.dinoj.actors.curate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.receptionist.Receptionist;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.pipeline.curate.Partitions;
import dev.dinoj.pipeline.ingest.Manifest;
import dev.dinoj.pipeline.ingest.ManifestEntry;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The curation driver in one JVM, over a local pool: a curation worker that takes a partition and never answers has
 * it taken away after {@code partition-timeout} and given to the real worker, which ingests every partition; every
 * object ends in exactly one partition's manifest and the curated set is written.
 */
@Timeout(120)
class CurationDriverTest {

    static final ActorTestKit kit = ActorTestKit.create(
            "dinoj",
            ConfigFactory.parseString(
                            "akka.remote.artery.canonical.port = 0\n"
                                    + "akka.cluster.jmx.multi-mbeans-in-same-jvm = on\n"
                                    + "dinoj.actors.curation { partitions = 3, min-workers = 2, max-attempts = 2, partition-timeout = 2s }\n")
                    .withFallback(ConfigFactory.load()));

    @AfterAll
    static void shutdown() {
        kit.shutdownTestKit();
    }

    @Test
    void shouldReassignTheSilentWorkersPartitionAndAccountForEveryObject(@TempDir Path dir) throws Exception {
        Cluster.get(kit.system())
                .manager()
                .tell(Join.create(Cluster.get(kit.system()).selfMember().address()));
        Path pool = dir.resolve("pool");
        Files.createDirectories(pool);
        Random rnd = new Random(3);
        for (int i = 0; i < 24; i++) {
            BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_BYTE_GRAY);
            for (int y = 0; y < 16; y++) {
                for (int x = 0; x < 16; x++) {
                    img.getRaster().setSample(x, y, 0, rnd.nextInt(256));
                }
            }
            ImageIO.write(
                    img, "png", pool.resolve(String.format("img-%02d.png", i)).toFile());
        }
        Files.writeString(pool.resolve("notes.txt"), "not an image");
        Files.write(pool.resolve("empty.png"), new byte[0]);
        Set<String> objects = new HashSet<>();
        try (var s = Files.list(pool)) {
            s.forEach(p -> objects.add(p.getFileName().toString()));
        }

        TestProbe<CurationWorker.Command> silent = kit.createTestProbe();
        kit.system().receptionist().tell(Receptionist.register(CurationWorker.KEY, silent.ref()));
        kit.spawn(CurationWorker.create(), "curation-worker");
        TestProbe<CurationDriver.Progress> listener = kit.createTestProbe();
        Path run = dir.resolve("run");
        CurateSpec spec = new CurateSpec(
                pool.toUri().toString(), "", dir.resolve("out").toUri().toString(), 0, "pixels:8", "same", 0);
        ActorRef<CurationDriver.Command> driver = kit.spawn(CurationDriver.create(spec, run, listener.ref()), "driver");

        CurationWorker.IngestPartition taken =
                silent.expectMessageClass(CurationWorker.IngestPartition.class, Duration.ofSeconds(30));
        boolean sawTimeout = false;
        CurationDriver.Progress last;
        do {
            last = listener.receiveMessage(Duration.ofSeconds(60));
            sawTimeout |= last.view().message().contains("partition " + taken.partition() + " failed")
                    && last.view().message().contains("partition-timeout");
        } while (!last.finished() && last.error().isEmpty());
        assertTrue(last.error().isEmpty(), last.error());
        assertTrue(sawTimeout, "no timeout of partition " + taken.partition() + " seen");
        assertEquals("done", last.view().phase());
        assertEquals(3, last.view().partitionsDone());
        assertEquals(objects.size(), last.view().objectsTotal());

        ObjectMapper json = new ObjectMapper();
        Map<String, Integer> partitionOf = new HashMap<>();
        for (int p = 0; p < 3; p++) {
            for (ManifestEntry e : Manifest.read(Partitions.done(run, p).resolve("manifest.jsonl"))) {
                assertEquals(null, partitionOf.put(e.key(), p), e.key() + " twice");
                assertEquals(Partitions.of(e.key(), 3), p, e.key());
            }
        }
        assertEquals(objects, partitionOf.keySet());
        // each partition's ingested images are spilled as float16 shards, keys in row order
        long spilled = 0;
        for (int p = 0; p < 3; p++) {
            dev.dinoj.pipeline.shards.ShardStore shards =
                    dev.dinoj.pipeline.shards.ShardStore.local(Partitions.root(run));
            long rows = dev.dinoj.pipeline.shards.EmbeddingShards.Reader.open(shards, Partitions.embeddings(p))
                    .rows();
            assertEquals(
                    rows,
                    Files.readAllLines(Partitions.done(run, p).resolve("embeddings/keys.txt"))
                            .size());
            spilled += rows;
        }
        assertEquals(24, spilled, "the 24 images spilled, not the text file or the empty one");
        JsonNode done = json.readTree(Partitions.root(run).resolve("done.json").toFile());
        assertEquals(26, done.get("objects").asInt(), done.toString());
        assertEquals(24, done.get("kept").asInt(), done.toString());
        assertTrue(Files.exists(dir.resolve("out").resolve("index.jsonl")), "no curated index written");
        assertEquals(spec.dataset(), CurationDriver.finishedDataset(spec, run));
        silent.expectNoMessage(Duration.ofMillis(200)); // stalled: given nothing more
        kit.stop(driver);
    }
}
