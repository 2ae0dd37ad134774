package dev.dinoj.deploy.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.ActorSystem;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.actors.data.StorageSystem;
import dev.dinoj.deploy.cli.CliTestSupport;
import dev.dinoj.loopback.LoopbackS3Server;
import dev.dinoj.pipeline.curate.Partitions;
import dev.dinoj.pipeline.data.IdxDataset;
import dev.dinoj.pipeline.ingest.Manifest;
import dev.dinoj.pipeline.ingest.ManifestEntry;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import dev.dinoj.testkit.FashionMnist;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 5, acceptance 1: three node JVMs on loopback (every role) and a loopback S3 server holding a Fashion-MNIST
 * pool with planted dirt. A run submitted with a {@code curate} block is curated by the curation workers (pool
 * partitions on more than one node, every pool object in exactly one partition's manifest), then {@code fmnist-pico}
 * trains a few steps on {@code curated:s3://…} served by the data shards (the audit names each sample's object key,
 * all of them in the curated index); the management port shows the members, the finished run and the metrics.
 */
@Timeout(420)
class ClusterCurateTrainTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final int POOL = 240;
    static final int PARTITIONS = 6;
    static final int STEPS = 4;

    @Test
    void shouldCurateAcrossTheCurationWorkersThenTrainFromS3(@TempDir Path dir) throws Exception {
        Path fmnist = FashionMnist.dirOr(Path.of(ClusterCurateTrainTest.class
                        .getResource("/dinoj/fashion-mnist-subset/train-images-idx3-ubyte.gz")
                        .toURI())
                .getParent());
        IdxDataset train = IdxDataset.fashionMnist(fmnist, true);
        long t0 = System.nanoTime();
        try (LoopbackS3Server s3 = LoopbackS3Server.start(dir.resolve("s3"), 0)) {
            StorageSettings ss = StorageSettings.defaults()
                    .withLocalEndpoint(s3.endpoint(), LoopbackS3Server.ACCESS_KEY, LoopbackS3Server.SECRET_KEY);
            ActorSystem system = ObjectStores.createSystem("test-s3", StorageSystem.config(ConfigFactory.load()), ss);
            try {
                ClusterDemo.Pool pool = ClusterDemo.upload(system, ss, "dinoj-cc", train, POOL, 1);
                System.out.printf(
                        "uploaded %d pool objects (%s) in %.1f s%n",
                        pool.objects().size(), pool.planted(), (System.nanoTime() - t0) / 1e9);
                run(dir, ss, system, pool);
            } finally {
                ObjectStores.terminate(system);
            }
        }
    }

    private void run(Path dir, StorageSettings ss, ActorSystem system, ClusterDemo.Pool pool) throws Exception {
        Path conf = dir.resolve("node.conf");
        Files.writeString(
                conf,
                String.join(
                        "\n",
                        "dinoj.actors.coordinator { min-workers = 3, step-timeout = 120s, probe-timeout = 3s }",
                        "dinoj.actors.worker { collective-timeout = 20s, connect-timeout = 60s }",
                        "dinoj.actors.data { slice-size = 48, fetch-timeout = 30s }",
                        "dinoj.actors.curation { min-workers = 3 }",
                        "dinoj.curate.ingest { download-parallelism = 4, decode-threads = 1 }",
                        "dinoj.node.management-token = \"s3cr3t\"",
                        ClusterDemo.storageConfig(ss)));
        int port = 27110 + (int) (ProcessHandle.current().pid() % 200) * 3;
        int mport = 20158 + (int) (ProcessHandle.current().pid() % 200) * 3;
        Path run = dir.resolve("run");
        String out = "s3://dinoj-cc/curated";
        long t1 = System.nanoTime();
        try (LocalCluster c = LocalCluster.start(
                3, dir, List.of("coordinator", "worker", "data", "curation"), conf, port, mport, "1g", List.of())) {
            c.awaitReady(Duration.ofMinutes(3));
            System.out.printf("cluster ready in %.1f s%n", (System.nanoTime() - t1) / 1e9);
            String m = c.nodes().get(2).managementUri();

            String body = ClusterDemo.submitBody(
                    "fmnist-pico",
                    List.of("train.batch-size=6", "data.loader-threads=1"),
                    run.toString(),
                    STEPS,
                    2,
                    pool,
                    out,
                    120,
                    PARTITIONS);
            HttpResponse<String> bad = ClusterDemo.post(
                    m + "/training/submit", "s3cr3t", body.replace("\"source\":\"s3://", "\"source\":\"ftp://"));
            assertEquals(400, bad.statusCode(), bad.body());
            // the same run through the CLI's flags (train --cluster --curate-*)
            CliTestSupport.Run ok = CliTestSupport.main(
                    "train",
                    "--config",
                    "fmnist-pico",
                    "--set",
                    "train.batch-size=6",
                    "--set",
                    "data.loader-threads=1",
                    "--out",
                    run.toString(),
                    "--steps",
                    Integer.toString(STEPS),
                    "--checkpoint-every",
                    "2",
                    "--cluster",
                    "--management",
                    m,
                    "--token",
                    "s3cr3t",
                    "--curate-source",
                    pool.source(),
                    "--curate-queries",
                    pool.queries(),
                    "--curate-out",
                    out,
                    "--curate-target-size",
                    "120",
                    "--curate-partitions",
                    Integer.toString(PARTITIONS));
            assertEquals(0, ok.code(), ok.toString());
            assertTrue(ok.out().contains("curating " + pool.source()), ok.toString());

            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            JsonNode st = null;
            boolean sawCurating = false;
            while (System.nanoTime() < deadline) {
                String s = ClusterDemo.get(m + "/training/status");
                st = s == null ? null : JSON.readTree(s);
                if (st != null) {
                    sawCurating |= st.get("phase").asText().equals("curating");
                    String ph = st.get("phase").asText();
                    if (ph.equals("finished") || ph.equals("failed") || ph.equals("stopped")) {
                        break;
                    }
                }
                for (LocalCluster.NodeProcess p : c.nodes()) {
                    assertTrue(p.process().isAlive(), "node " + p.index() + " died; see " + p.log());
                }
                Thread.sleep(1000);
            }
            System.out.printf("curated and trained in %.1f s: %s%n", (System.nanoTime() - t1) / 1e9, st);
            for (LocalCluster.NodeProcess p : c.nodes()) {
                try (Stream<String> lines = Files.lines(p.log())) {
                    lines.filter(l -> l.contains("Aborting")
                                    || l.contains("Curation")
                                    || l.contains("Partition")
                                    || l.contains("reassigned"))
                            .forEach(l -> System.out.println("node " + p.index() + ": " + l));
                }
            }
            assertTrue(st != null && st.get("phase").asText().equals("finished"), "run did not finish: " + st);
            assertTrue(sawCurating, "never saw phase curating");
            assertEquals(STEPS, st.get("committed_step").asInt(), st.toString());
            JsonNode cur = st.get("curation");
            assertEquals("done", cur.get("phase").asText(), cur.toString());
            assertEquals(PARTITIONS, cur.get("partitions_done").asInt(), cur.toString());
            assertEquals(pool.objects().size(), cur.get("objects_total").asInt(), cur.toString());
            assertEquals("curated:" + out, cur.get("dataset").asText(), cur.toString());

            Set<String> nodes = checkPartitions(run, pool, PARTITIONS);
            assertTrue(nodes.size() > 1, "all partitions on one node: " + nodes);
            checkAudit(run, ss, system, out);

            JsonNode members = JSON.readTree(ClusterDemo.get(c.nodes().get(0).managementUri() + "/cluster/members"));
            int up = 0;
            for (JsonNode mem : members.get("members")) {
                up += mem.get("status").asText().equals("Up") ? 1 : 0;
            }
            assertEquals(3, up, members.toString());
            String metrics = ClusterDemo.get(m + "/metrics");
            assertTrue(metrics.contains("dinoj_training_step " + STEPS + ".0"), metrics);
            assertTrue(
                    metrics.contains(
                            "dinoj_curation_objects_listed " + pool.objects().size() + ".0"),
                    metrics);
            assertTrue(metrics.contains("dinoj_curation_done 1.0"), metrics);
            assertTrue(metrics.contains("dinoj_cluster_members_up 3.0"), metrics);
        }
    }

    /** Partitions on more than one node; every pool object in exactly one partition, the one its key hashes to. */
    static Set<String> checkPartitions(Path run, ClusterDemo.Pool pool, int partitions) throws Exception {
        Map<String, Integer> partitionOf = new HashMap<>();
        Set<String> nodes = new HashSet<>();
        for (int p = 0; p < partitions; p++) {
            Path d = Partitions.done(run, p);
            nodes.add(JSON.readTree(d.resolve("part.json").toFile()).get("node").asText());
            for (ManifestEntry e : Manifest.read(d.resolve("manifest.jsonl"))) {
                if (pool.objects().contains(e.key())) {
                    Integer before = partitionOf.put(e.key(), p);
                    assertTrue(before == null, e.key() + " in partitions " + before + " and " + p);
                    assertEquals(Partitions.of(e.key(), partitions), p, e.key());
                } else {
                    assertTrue(e.key().contains("#"), "unexpected key " + e.key() + " in partition " + p);
                }
            }
        }
        assertEquals(pool.objects(), partitionOf.keySet());
        assertTrue(!Files.exists(Partitions.root(run).resolve("work")), "scratch directories left behind");
        JsonNode done = JSON.readTree(Partitions.root(run).resolve("done.json").toFile());
        assertEquals(pool.objects().size(), done.get("objects").asInt(), done.toString());
        return nodes;
    }

    /** Every audited sample names an object key of the curated index, at its index. */
    private static void checkAudit(Path run, StorageSettings ss, ActorSystem system, String out) throws Exception {
        Map<Integer, String> keyOf = new HashMap<>();
        try (ObjectStores.Location loc = ObjectStores.open(StorageUri.parse(out), ss, system)) {
            String index = new String(
                    loc.store()
                            .get(loc.key("index.jsonl"), 64L << 20)
                            .toCompletableFuture()
                            .join()
                            .data(),
                    StandardCharsets.UTF_8);
            for (String line : index.split("\n")) {
                if (!line.isBlank()) {
                    JsonNode e = JSON.readTree(line);
                    keyOf.put(e.get("i").asInt(), e.get("key").asText());
                }
            }
        }
        assertTrue(keyOf.size() > 0 && keyOf.size() <= 120, "curated " + keyOf.size());
        List<String> audit = Files.readAllLines(run.resolve("audit.jsonl"));
        assertEquals(STEPS, audit.size(), audit.toString());
        for (String l : audit) {
            JsonNode line = JSON.readTree(l);
            assertEquals(3, line.get("world_size").asInt(), l);
            JsonNode idx = line.get("indices");
            JsonNode keys = line.get("keys");
            assertTrue(keys != null && keys.size() == idx.size() && idx.size() == 6, l);
            for (int i = 0; i < idx.size(); i++) {
                assertEquals(keyOf.get(idx.get(i).asInt()), keys.get(i).asText(), l);
            }
        }
    }
}
