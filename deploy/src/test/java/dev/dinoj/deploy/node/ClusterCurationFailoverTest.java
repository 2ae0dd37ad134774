package dev.dinoj.deploy.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.ActorSystem;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.actors.data.StorageSystem;
import dev.dinoj.loopback.LoopbackS3Server;
import dev.dinoj.pipeline.curate.Partitions;
import dev.dinoj.pipeline.data.IdxDataset;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.testkit.FashionMnist;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A curation worker's JVM killed (-9) while it ingests a partition: the driver gives the partition to another worker
 * once the node is gone, partitions already finished are not redone, every pool object still ends in exactly one
 * partition's manifest, and the run goes on to train with the two nodes left.
 */
@Timeout(420)
class ClusterCurationFailoverTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final int PARTITIONS = 4;

    @Test
    void shouldReassignTheDeadWorkersPartition(@TempDir Path dir) throws Exception {
        Path fmnist = FashionMnist.dirOr(Path.of(ClusterCurationFailoverTest.class
                        .getResource("/dinoj/fashion-mnist-subset/train-images-idx3-ubyte.gz")
                        .toURI())
                .getParent());
        IdxDataset train = IdxDataset.fashionMnist(fmnist, true);
        try (LoopbackS3Server s3 = LoopbackS3Server.start(dir.resolve("s3"), 0)) {
            StorageSettings ss = StorageSettings.defaults()
                    .withLocalEndpoint(s3.endpoint(), LoopbackS3Server.ACCESS_KEY, LoopbackS3Server.SECRET_KEY);
            ActorSystem system = ObjectStores.createSystem("test-s3", StorageSystem.config(ConfigFactory.load()), ss);
            ClusterDemo.Pool pool;
            try {
                pool = ClusterDemo.upload(system, ss, "dinoj-fo", train, 400, 0);
            } finally {
                ObjectStores.terminate(system);
            }
            run(dir, ss, pool);
        }
    }

    private void run(Path dir, StorageSettings ss, ClusterDemo.Pool pool) throws Exception {
        Path conf = dir.resolve("node.conf");
        Files.writeString(
                conf,
                String.join(
                        "\n",
                        "dinoj.actors.coordinator { min-workers = 2, step-timeout = 120s, probe-timeout = 3s }",
                        "dinoj.actors.worker { collective-timeout = 20s, connect-timeout = 60s }",
                        "dinoj.actors.data { slice-size = 64, fetch-timeout = 30s }",
                        "dinoj.actors.curation { min-workers = 3 }",
                        // slow ingestion down (one download, one decode thread, small batches) so the kill lands
                        // mid-partition
                        "dinoj.curate.ingest { download-parallelism = 1, decode-threads = 1, embed-batch = 4 }",
                        "dinoj.node.management-token = \"s3cr3t\"",
                        ClusterDemo.storageConfig(ss)));
        int port = 27710 + (int) (ProcessHandle.current().pid() % 200) * 3;
        int mport = 20758 + (int) (ProcessHandle.current().pid() % 200) * 3;
        Path run = dir.resolve("run");
        try (LocalCluster c = LocalCluster.start(
                3, dir, List.of("coordinator", "worker", "data", "curation"), conf, port, mport, "1g", List.of())) {
            c.awaitReady(Duration.ofMinutes(3));
            String m = c.nodes().get(0).managementUri();
            String victim = "127.0.0.1:" + c.nodes().get(2).port();
            String body = ClusterDemo.submitBody(
                    "fmnist-pico",
                    List.of("train.batch-size=4", "data.loader-threads=1"),
                    run.toString(),
                    2,
                    2,
                    pool,
                    "s3://dinoj-fo/curated",
                    100,
                    PARTITIONS);
            HttpResponse<String> ok = ClusterDemo.post(m + "/training/submit", "s3cr3t", body);
            assertEquals(200, ok.statusCode(), ok.body());

            // kill node 2 while it ingests a partition
            int killed = -1;
            long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (killed < 0 && System.nanoTime() < deadline) {
                String s = ClusterDemo.get(m + "/training/status");
                JsonNode on =
                        s == null ? null : JSON.readTree(s).path("curation").path("ingesting_on");
                for (int p = 0; on != null && p < on.size(); p++) {
                    if (on.get(p).asText().endsWith(victim)) {
                        c.kill(2);
                        killed = p;
                        break;
                    }
                }
                Thread.sleep(100);
            }
            assertTrue(killed >= 0, "node 2 never ingested a partition");
            boolean killedMidway = !Files.exists(Partitions.done(run, killed));
            System.out.println("killed node 2 while it ingested partition " + killed
                    + (killedMidway ? "" : " (it had just finished)"));

            boolean sawReassigned = false;
            JsonNode st = null;
            deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
            while (System.nanoTime() < deadline) {
                String s = ClusterDemo.get(m + "/training/status");
                st = s == null ? null : JSON.readTree(s);
                if (st != null) {
                    sawReassigned |=
                            st.path("curation").path("message").asText().contains("reassigned");
                    String ph = st.get("phase").asText();
                    if (ph.equals("finished") || ph.equals("failed") || ph.equals("stopped")) {
                        break;
                    }
                }
                assertTrue(
                        c.nodes().get(0).process().isAlive()
                                && c.nodes().get(1).process().isAlive(),
                        "a surviving node died; see " + dir);
                Thread.sleep(500);
            }
            assertTrue(st != null && st.get("phase").asText().equals("finished"), "run did not finish: " + st);
            assertEquals("done", st.get("curation").get("phase").asText(), st.toString());
            ClusterCurateTrainTest.checkPartitions(run, pool, PARTITIONS);
            String by = JSON.readTree(
                            Partitions.done(run, killed).resolve("part.json").toFile())
                    .get("node")
                    .asText();
            if (killedMidway) {
                assertTrue(sawReassigned, "no reassignment seen: " + st);
                assertNotEquals(true, by.endsWith(victim), "partition " + killed + " credited to the dead node");
            }
            assertEquals(2, st.get("committed_step").asInt(), st.toString());
            assertEquals(2, st.get("workers").size(), st.toString());
        }
    }
}
