package dev.dinoj.deploy.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.pipeline.loader.EpochSampler;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance 2 and 3 on loopback: three node JVMs (roles coordinator, worker, data) form a cluster through Cluster
 * Bootstrap, the coordinator trains the pico preset with the sharded step over Aeron (a worker per JVM, samples
 * from the data-shard entities). Mid-run the coordinator's JVM (also a worker) is killed (SIGKILL): the singleton
 * moves to the next-oldest node, which re-forms the world with the two workers left from the last committed checkpoint.
 * Then a worker JVM is killed: the last node resumes alone from the last committed checkpoint and finishes. (The
 * coordinator goes first: in a two-node cluster the split-brain resolver cannot tell a dead oldest node from a
 * partition and downs the survivor too; see docs/CLUSTER.md.) The audit of every trained sample shows, relative to
 * an uninterrupted run, no sample skipped or repeated once the rewinds to committed checkpoints are applied.
 */
@Timeout(600)
class ClusterTrainingTest {

    static final int STEPS = 24;
    static final int EVERY = 4;
    static final int BATCH = 6;
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void shouldTrainAcrossThreeJvmsAndSurviveAWorkerAndTheCoordinatorBeingKilled(@TempDir Path dir) throws Exception {
        try {
            trainAndKill(dir);
        } catch (Throwable t) {
            Path keep = Path.of("target", "cluster-test-logs"); // the node logs outlive @TempDir for diagnosis
            Files.createDirectories(keep);
            try (var files = Files.list(dir)) {
                for (Path f : (Iterable<Path>) files::iterator) {
                    if (f.toString().endsWith(".log") || f.toString().endsWith(".conf")) {
                        Files.copy(f, keep.resolve(f.getFileName()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    }
                }
            }
            Path audit = dir.resolve("run").resolve("audit.jsonl");
            if (Files.exists(audit)) {
                Files.copy(audit, keep.resolve("audit.jsonl"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
            throw t;
        }
    }

    private void trainAndKill(Path dir) throws Exception {
        Path run = dir.resolve("run");
        Path conf = dir.resolve("test-node.conf");
        Files.writeString(
                conf,
                String.join(
                        "\n",
                        "dinoj.actors.coordinator {",
                        "  run { config = fmnist-pico, set = [\"train.batch-size=" + BATCH
                                + "\", \"data.loader-threads=1\"],",
                        "        dir = \"" + run + "\", steps = " + STEPS + ", checkpoint-every = " + EVERY + " }",
                        "  min-workers = 3, step-timeout = 90s, reform-delay = 1s, probe-timeout = 3s, step-pause = 300ms",
                        "}",
                        "dinoj.actors.worker { collective-timeout = 5s, connect-timeout = 45s }",
                        "dinoj.actors.data { slice-size = 8192, fetch-timeout = 8s }",
                        "dinoj.node.management-token = \"t0k3n\"",
                        "akka.cluster.split-brain-resolver.stable-after = 3s",
                        ""));
        int port = 25510 + (int) (ProcessHandle.current().pid() % 200) * 3;
        int mport = 18558 + (int) (ProcessHandle.current().pid() % 200) * 3;
        try (LocalCluster c = LocalCluster.start(
                3, dir, List.of("coordinator", "worker", "data"), conf, port, mport, "1g", List.of())) {
            c.awaitReady(Duration.ofMinutes(3));
            String m0 = c.nodes().get(0).managementUri();
            String m1 = c.nodes().get(1).managementUri();
            JsonNode members = JSON.readTree(body(m1 + "/cluster/members"));
            assertEquals(3, members.get("members").size(), members.toString());

            // training on three workers past the first checkpoint
            List<JsonNode> audit = waitForAudit(
                    run, a -> a.stream().anyMatch(l -> l.get("step").asInt() >= EVERY + 1), Duration.ofMinutes(4), c);
            assertEquals(3, audit.get(0).get("world_size").asInt());
            JsonNode status = JSON.readTree(body(m1 + "/training/status"));
            assertEquals(3, status.get("workers").size(), status.toString());
            String metrics = body(m1 + "/metrics");
            assertTrue(metrics.contains("dinoj_training_step"), metrics);
            assertTrue(metrics.contains("dinoj_cluster_members_up 3.0"), metrics);
            assertTrue(
                    Files.readString(c.nodes().get(0).log()).contains("Coordinator up: run"),
                    "the singleton should start on the oldest node (0)");

            // kill -9 of the coordinator's JVM (node 0, also a worker): the singleton moves to node 1 (now the oldest),
            // which re-forms the world with the two workers left from the last committed checkpoint
            long killedAt = System.nanoTime();
            c.kill(0);
            audit = waitForAudit(
                    run,
                    a -> lastWorldSize(a) == 2
                            && a.get(a.size() - 1).get("step").asInt() >= 3 * EVERY + 1,
                    Duration.ofMinutes(4),
                    c);
            JsonNode resumed = audit.stream()
                    .filter(l -> l.get("world_size").asInt() == 2)
                    .findFirst()
                    .orElseThrow();
            double resumeSeconds = (System.nanoTime() - killedAt) / 1e9;
            assertTrue(resumeSeconds < 120, "training resumed only after " + resumeSeconds + " s");
            assertEquals(
                    0,
                    resumed.get("step").asInt() % EVERY,
                    "resumed at step " + resumed.get("step") + ", not at a committed checkpoint");
            // the singleton moves to the oldest node left: node 1 or node 2, whichever joined first
            int coordinator = Files.readString(c.nodes().get(1).log()).contains("Coordinator up: run")
                    ? 1
                    : Files.readString(c.nodes().get(2).log()).contains("Coordinator up: run") ? 2 : -1;
            assertTrue(coordinator > 0, "the singleton should have moved to node 1 or 2");
            int worker = 3 - coordinator;
            String mc = c.nodes().get(coordinator).managementUri();

            // kill -9 of the other worker JVM: the coordinator's node goes on alone from the last committed checkpoint
            c.kill(worker);
            long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            JsonNode st = null;
            while (System.nanoTime() < deadline) {
                String s = bodyOrNull(mc + "/training/status");
                st = s == null ? null : JSON.readTree(s);
                if (st != null && st.get("phase").asText().equals("finished")) {
                    break;
                }
                assertTrue(
                        c.nodes().get(coordinator).process().isAlive(),
                        "node " + coordinator + " died; see "
                                + c.nodes().get(coordinator).log());
                Thread.sleep(1000);
            }
            assertTrue(st != null && st.get("phase").asText().equals("finished"), "run did not finish: " + st);
            assertEquals(STEPS, st.get("committed_step").asInt(), st.toString());
            assertTrue(st.get("restarts").asInt() >= 2, st.toString());

            checkAudit(readAudit(run));
            assertTrue(
                    Files.isRegularFile(Path.of(st.get("checkpoint").asText()).resolve("manifest.json")));
            assertEquals(
                    1,
                    JSON.readTree(Files.readString(
                                    Path.of(st.get("checkpoint").asText()).resolve("manifest.json")))
                            .get("world_size")
                            .asInt());
        }
    }

    /**
     * Replays the audit: a step number at or below one already seen is a rewind, which must go back to a committed
     * checkpoint (a multiple of the cadence) and drops what followed it. What remains must be steps 0..STEPS-1 in
     * order, each with exactly the samples of an uninterrupted run: positions [s·B, (s+1)·B) and the sampler's indices.
     */
    static void checkAudit(List<JsonNode> lines) {
        checkAudit(lines, STEPS, EVERY, BATCH);
    }

    /** {@link #checkAudit(List)} of a run of {@code steps} steps, checkpoint cadence {@code every}, batch {@code batch}. */
    static void checkAudit(List<JsonNode> lines, int steps, int every, int batch) {
        List<JsonNode> kept = new ArrayList<>();
        for (JsonNode l : lines) {
            int s = l.get("step").asInt();
            if (s < kept.size()) {
                assertEquals(0, s % every, "rewind to step " + s + " is not a checkpoint");
                kept.subList(s, kept.size()).clear();
            }
            assertEquals(kept.size(), s, "step " + s + " follows step " + (kept.size() - 1) + ": a step was skipped");
            kept.add(l);
        }
        assertEquals(steps, kept.size());
        EpochSampler sampler = new EpochSampler(60000, fmnistPicoSeed());
        for (int s = 0; s < steps; s++) {
            JsonNode l = kept.get(s);
            assertEquals(batch, l.get("positions").size(), l.toString());
            for (int i = 0; i < batch; i++) {
                assertEquals((long) s * batch + i, l.get("positions").get(i).asLong(), "step " + s + ": " + l);
                assertEquals(sampler.next(), l.get("indices").get(i).asInt(), "step " + s + ": " + l);
            }
        }
    }

    static long fmnistPicoSeed() {
        return dev.dinoj.trainer.config.TrainSettings.load("fmnist-pico", List.of())
                .seed();
    }

    static int lastWorldSize(List<JsonNode> a) {
        return a.isEmpty() ? -1 : a.get(a.size() - 1).get("world_size").asInt();
    }

    static List<JsonNode> readAudit(Path run) throws IOException {
        List<JsonNode> out = new ArrayList<>();
        Path f = run.resolve("audit.jsonl");
        if (Files.exists(f)) {
            for (String line : Files.readAllLines(f)) {
                if (!line.isBlank()) {
                    out.add(JSON.readTree(line));
                }
            }
        }
        return out;
    }

    static List<JsonNode> waitForAudit(Path run, Predicate<List<JsonNode>> done, Duration timeout, LocalCluster c)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            List<JsonNode> a = readAudit(run);
            if (done.test(a)) {
                return a;
            }
            Thread.sleep(250);
        }
        StringBuilder logs = new StringBuilder();
        for (LocalCluster.NodeProcess p : c.nodes()) {
            String log = Files.readString(p.log());
            logs.append("\n--- node ")
                    .append(p.index())
                    .append(" ---\n")
                    .append(log.length() > 4000 ? log.substring(log.length() - 4000) : log);
        }
        fail("audit condition not reached within " + timeout.toSeconds() + " s: "
                + readAudit(run).size() + " lines" + logs);
        return null;
    }

    static String body(String uri) throws Exception {
        HttpResponse<String> r = HTTP.send(
                HttpRequest.newBuilder(URI.create(uri))
                        .timeout(Duration.ofSeconds(10))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), uri + ": " + r.body());
        return r.body();
    }

    static String bodyOrNull(String uri) {
        try {
            HttpResponse<String> r = HTTP.send(
                    HttpRequest.newBuilder(URI.create(uri))
                            .timeout(Duration.ofSeconds(10))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 ? r.body() : null;
        } catch (IOException | InterruptedException e) {
            return null;
        }
    }
}
