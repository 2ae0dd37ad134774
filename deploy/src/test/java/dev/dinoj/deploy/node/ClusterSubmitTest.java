package dev.dinoj.deploy.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.deploy.cli.CliTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dinoj train --cluster} against two node JVMs started without a run: the coordinator accepts the submitted
 * pico run — distilled from a trained pico teacher with Gram anchoring on, issue #7 — trains it on both workers to
 * the end (audit of every step; the checkpoint holds the Gram teacher and names the distillation teacher); a second
 * submission made while it runs waits in the queue and is trained when the first has finished (in a new generation,
 * without a restart); {@code dinoj status} shows the finished second run.
 */
@Timeout(300)
class ClusterSubmitTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void shouldTrainASubmittedRunThenTheQueuedNext(@TempDir Path dir) throws Exception {
        Path teacher = Path.of(ClusterSubmitTest.class
                        .getResource("/distill/pico-teacher/state.json")
                        .toURI())
                .getParent();
        Path conf = dir.resolve("node.conf");
        Files.writeString(
                conf,
                String.join(
                        "\n",
                        "dinoj.actors.coordinator { min-workers = 2, step-timeout = 90s, probe-timeout = 3s }",
                        // a submitted run reads its teacher only below the roots
                        "dinoj.actors.coordinator.config-roots = [\"" + teacher.getParent() + "\"]",
                        "dinoj.actors.worker { collective-timeout = 10s, connect-timeout = 45s }",
                        "dinoj.actors.data { slice-size = 8192, fetch-timeout = 8s }",
                        "dinoj.node.management-token = \"s3cr3t\"",
                        ""));
        int port = 26110 + (int) (ProcessHandle.current().pid() % 200) * 2;
        int mport = 19158 + (int) (ProcessHandle.current().pid() % 200) * 2;
        Path run = dir.resolve("run");
        try (LocalCluster c = LocalCluster.start(
                2, dir, List.of("coordinator", "worker", "data"), conf, port, mport, "1g", List.of())) {
            c.awaitReady(Duration.ofMinutes(3));
            String m = c.nodes().get(1).managementUri();
            assertEquals(
                    "idle",
                    JSON.readTree(ClusterTrainingTest.body(m + "/training/status"))
                            .get("phase")
                            .asText());

            // issue #7: the submitted run distils pico from a trained pico teacher with Gram anchoring from step 1
            CliTestSupport.Run ok = CliTestSupport.main(
                    "train",
                    "--config",
                    "fmnist-pico",
                    "--set",
                    "train.batch-size=4",
                    "--set",
                    "data.loader-threads=1",
                    "--set",
                    "distill.teacher=\"" + teacher + "\"",
                    "--set",
                    "model.drop-path-rate=0",
                    "--set",
                    "gram.use-loss=true",
                    "--set",
                    "gram.it-load-ema-teacher=1",
                    "--out",
                    run.toString(),
                    "--steps",
                    "4",
                    "--checkpoint-every",
                    "2",
                    "--cluster",
                    "--management",
                    m,
                    "--token",
                    "s3cr3t");
            assertEquals(0, ok.code(), ok.toString());
            assertTrue(ok.out().contains("accepted: 4 steps"), ok.toString());

            // a second submission waits in the queue and runs when the first has finished (new generation, no restart)
            Path next = dir.resolve("next");
            CliTestSupport.Run second = CliTestSupport.main(
                    "train",
                    "--config",
                    "fmnist-pico",
                    "--set",
                    "train.batch-size=4",
                    "--set",
                    "data.loader-threads=1",
                    "--out",
                    next.toString(),
                    "--steps",
                    "2",
                    "--cluster",
                    "--management",
                    m,
                    "--token",
                    "s3cr3t");
            assertEquals(0, second.code(), second.toString());
            assertTrue(second.out().contains("run fmnist-pico queued at position 1"), second.toString());

            JsonNode st = awaitFinished(m, next, Duration.ofMinutes(4));
            assertEquals(2, st.get("committed_step").asInt(), st.toString());
            assertEquals(0, st.get("queue").size(), st.toString());

            Path last = run.resolve("checkpoints/step-00000004"); // the first run's final checkpoint
            assertTrue(Files.isRegularFile(last.resolve("manifest.json")), "the first run ran to its end");
            assertTrue(
                    Files.isRegularFile(last.resolve("gram_teacher.safetensors")), "the Gram teacher is checkpointed");
            assertEquals(
                    dev.dinoj.trainer.train.DistillTeacher.sha256(teacher.resolve("teacher.safetensors")),
                    JSON.readTree(last.resolve("manifest.json").toFile())
                            .get("distill_teacher_sha256")
                            .asText());
            List<JsonNode> audit = audit(run, 4, 2);
            int lastGeneration = audit.get(3).get("generation").asInt();
            for (JsonNode line : audit(next, 2, 2)) {
                assertTrue(line.get("generation").asInt() > lastGeneration, "a new generation: " + line);
            }

            CliTestSupport.Run status = CliTestSupport.main("status", "--management", m, "--json");
            assertEquals(0, status.code(), status.toString());
            assertEquals(1, status.out().strip().lines().count(), "--json: one line");
            JsonNode shown = JSON.readTree(status.out());
            CliTestSupport.Run human = CliTestSupport.main("status", "--management", m);
            assertTrue(human.out().contains(": finished"), human.toString());
            assertEquals("finished", shown.get("phase").asText(), status.toString());
            assertEquals(next.toAbsolutePath().toString(), shown.get("dir").asText(), status.toString());
        }
    }

    /** The run's audit: one line per step, in order, each with the given world size. */
    static List<JsonNode> audit(Path run, int steps, int worldSize) throws Exception {
        List<String> lines = Files.readAllLines(run.resolve("audit.jsonl"));
        assertEquals(steps, lines.size(), lines.toString());
        List<JsonNode> out = new java.util.ArrayList<>();
        for (int s = 0; s < steps; s++) {
            JsonNode line = JSON.readTree(lines.get(s));
            assertEquals(s, line.get("step").asInt(), line.toString());
            assertEquals(worldSize, line.get("world_size").asInt(), line.toString());
            out.add(line);
        }
        return out;
    }

    /** Polls /training/status until the run in {@code runDir} is {@code finished}. */
    static JsonNode awaitFinished(String management, Path runDir, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        JsonNode st;
        do {
            Thread.sleep(1000);
            String b = ClusterTrainingTest.bodyOrNull(management + "/training/status");
            st = b == null ? null : JSON.readTree(b);
            assertTrue(System.nanoTime() < deadline, "not finished: " + st);
        } while (st == null
                || !st.get("phase").asText().equals("finished")
                || !st.get("dir").asText().equals(runDir.toAbsolutePath().toString()));
        return st;
    }
}
