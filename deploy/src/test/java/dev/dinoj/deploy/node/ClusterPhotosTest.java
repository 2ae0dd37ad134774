package dev.dinoj.deploy.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dinoj.deploy.cli.CliTestSupport;
import dev.dinoj.pipeline.curate.CuratedDataset;
import dev.dinoj.pipeline.curate.CuratedIndexEntry;
import dev.dinoj.pipeline.image.SyntheticPhotos;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #14 acceptance 1 on loopback: photos are curated ({@code dinoj curate} from their folder, originals kept with
 * {@code curate.store.max-side=0}) and three node JVMs train {@code vits14} (ViT-S/14, 224/98 crops; heads of 1024
 * prototypes to fit three JVMs in CI's memory) from that curated set, whose every batch holds a 4000 × 3000 JPEG of
 * several MB: the data shards send it as stored bytes in replies under Artery's frame, the workers decode and augment
 * it, and the run finishes with no frame-size error and no re-formed world. The set also holds a 9000 × 9000 PNG over
 * the training pixel guard ({@code dinoj.data.max-image-pixels}, 25 Mpx): the data shards skip it and send the next
 * image in its place; the run counts it once (status, metrics, {@code dinoj status}) as a single JVM does.
 */
@Timeout(900)
class ClusterPhotosTest {

    @Test
    void shouldTrainFromACuratedSetWhoseBatchesHoldA4000By3000Photo(@TempDir Path dir) throws Exception {
        Path photos = dir.resolve("photos");
        Files.createDirectories(photos.resolve("circles"));
        Files.createDirectories(photos.resolve("rectangles"));
        Files.createDirectories(photos.resolve("triangles"));
        byte[] big = SyntheticPhotos.jpeg(SyntheticPhotos.scene(4000, 3000, 0, 11), 0.95f, false);
        assertTrue(big.length > 4 * 1024 * 1024, "larger than the 4 MiB frame: " + big.length + " bytes");
        Files.write(photos.resolve("circles/big.jpg"), big);
        Files.write(
                photos.resolve("rectangles/a.jpg"),
                SyntheticPhotos.jpeg(SyntheticPhotos.scene(640, 480, 1, 12), 0.9f, false));
        Files.write(
                photos.resolve("triangles/b.png"),
                SyntheticPhotos.encode(SyntheticPhotos.scene(500, 375, 2, 13), "png"));
        Files.write(photos.resolve("circles/huge.png"), SyntheticPhotos.flatPng(9000, 9000, 0x4080c0));
        Path curated = dir.resolve("curated");
        CliTestSupport.Run cur = CliTestSupport.main(
                "curate",
                "--source",
                photos.toString(),
                "--out",
                curated.toString(),
                "--work",
                dir.resolve("curate-work").toString(),
                "--set",
                "curate.store.max-side=0");
        assertEquals(0, cur.code(), cur::toString);
        String bigKey = null;
        String hugeKey = null;
        int hugeIndex = -1;
        try (CuratedDataset ds = CuratedDataset.open(curated)) {
            assertEquals(4, ds.size(), "every photo curated");
            for (int i = 0; i < ds.size(); i++) {
                CuratedIndexEntry e = ds.entry(i);
                if (e.key().endsWith("circles/big.jpg")) {
                    bigKey = e.key();
                    assertEquals(4000, e.width());
                    assertEquals(big.length, e.length(), "the 4000 x 3000 JPEG stored as it came, over the frame");
                }
                if (e.key().endsWith("circles/huge.png")) {
                    hugeKey = e.key();
                    hugeIndex = i;
                    assertEquals(9000, e.width(), "stored as it came");
                }
            }
        }
        assertTrue(bigKey != null, "the 4000 x 3000 photo is in the curated set");
        assertTrue(hugeKey != null, "the 9000 x 9000 PNG is in the curated set");
        String dataset = "curated:" + curated;
        Path run = dir.resolve("run");
        Path conf = dir.resolve("photos-node.conf");
        Files.writeString(
                conf,
                String.join(
                        "\n",
                        "dinoj.actors.coordinator {",
                        "  run { config = vits14, set = [\"train.batch-size=6\", \"data.loader-threads=1\",",
                        "        \"dino.head-n-prototypes=1024\", \"ibot.head-n-prototypes=1024\",",
                        "        \"data.dataset=\\\"" + dataset + "\\\"\"],",
                        "        dir = \"" + run + "\", steps = 2, checkpoint-every = 2 }",
                        "  min-workers = 3, step-timeout = 300s, reform-delay = 1s, probe-timeout = 3s",
                        "}",
                        "dinoj.actors.worker { collective-timeout = 60s, connect-timeout = 60s }",
                        "dinoj.actors.data { dataset = \"" + dataset + "\", slice-size = 8192, fetch-timeout = 60s }",
                        "akka.cluster.split-brain-resolver.stable-after = 10s",
                        ""));
        int port = 26510 + (int) (ProcessHandle.current().pid() % 200) * 3;
        int mport = 19558 + (int) (ProcessHandle.current().pid() % 200) * 3;
        try (LocalCluster c = LocalCluster.start(
                3, dir, List.of("coordinator", "worker", "data"), conf, port, mport, "2g", List.of())) {
            c.awaitReady(Duration.ofMinutes(3));
            String m = c.nodes().get(1).managementUri();
            long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
            JsonNode st = null;
            while (System.nanoTime() < deadline) {
                String s = ClusterTrainingTest.bodyOrNull(m + "/training/status");
                st = s == null ? null : ClusterTrainingTest.JSON.readTree(s);
                if (st != null
                        && List.of("finished", "failed")
                                .contains(st.get("phase").asText())) {
                    break;
                }
                Thread.sleep(1000);
            }
            StringBuilder logs = new StringBuilder();
            for (LocalCluster.NodeProcess p : c.nodes()) {
                logs.append(Files.readString(p.log()));
            }
            assertTrue(st != null && st.get("phase").asText().equals("finished"), "run did not finish: " + st);
            assertEquals(
                    0,
                    st.get("restarts").asInt(),
                    "no world re-formed: " + st + "\nwhy, from the node logs:\n"
                            + logs.toString()
                                    .lines()
                                    .filter(l -> l.matches("(?i).*(re-?form|fail|timed out|timeout|unreachable).*"))
                                    .limit(40)
                                    .collect(java.util.stream.Collectors.joining("\n")));
            List<JsonNode> audit = ClusterTrainingTest.readAudit(run);
            assertEquals(2, audit.size(), audit.toString());
            // a batch of 6 of the 4 images spans a whole epoch: every image in every step
            Set<Integer> skipped = new TreeSet<>();
            for (JsonNode step : audit) {
                assertEquals(3, step.get("world_size").asInt());
                assertEquals(6, step.get("indices").size(), "every image, the big one included, in every step");
                List<String> keys = new ArrayList<>();
                step.get("keys").forEach(k -> keys.add(k.asText()));
                assertTrue(keys.contains(bigKey), "the 4000 x 3000 photo in the step: " + step);
                assertFalse(keys.contains(hugeKey), "the 9000 x 9000 PNG is never trained on: " + step);
                step.path("skipped").forEach(i -> skipped.add(i.asInt()));
            }
            assertEquals(Set.of(hugeIndex), skipped, "the steps name the image skipped: " + audit);
            assertEquals(1, st.get("images_skipped").asInt(-1), "counted once: " + st);
            String metrics = ClusterTrainingTest.body(m + "/metrics");
            assertTrue(metrics.contains("dinoj_data_images_skipped 1.0"), metrics);
            CliTestSupport.Run status = CliTestSupport.main("status", "--management", m);
            assertTrue(
                    status.out().contains("1 image(s) over the pixel guard (dinoj.data.max-image-pixels) skipped"),
                    status.toString());
            assertTrue(logs.toString().contains("huge.png): skipped (9000x9000"), "logged by name");
            assertFalse(logs.toString().contains("OversizedPayload"), "a reply over the frame");
            assertFalse(logs.toString().contains("Discarding oversized"), "a reply over the frame");
        }
    }
}
