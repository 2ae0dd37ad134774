package dev.dinoj.deploy.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.dinoj.deploy.cli.CliTestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run submitted with {@code train --cluster} survives the coordinator's node: three node JVMs started without a
 * run (as {@code cluster up} does, with {@code dinoj.actors.coordinator.state-dir}), the pico run is submitted, and
 * after its first committed checkpoint the coordinator's JVM is killed (SIGKILL). The singleton's next node takes the
 * submitted run from the state folder, resumes it from the committed checkpoint with the two workers left and
 * finishes it; the audit shows every step, nothing skipped or repeated after the rewinds. A second run submitted while
 * the first trains waits in the queue, which the next coordinator reads from the state folder as well: it starts that
 * run when the first has finished (and waits there for {@code min-workers}).
 */
@Timeout(360)
class SubmittedRunHandoverTest {

    static final int STEPS = 12;
    static final int EVERY = 3;

    @Test
    void aSubmittedRunSurvivesTheCoordinatorsNode(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        Path conf = dir.resolve("test-node.conf");
        Files.writeString(
                conf,
                String.join(
                        "\n",
                        "dinoj.actors.coordinator { min-workers = 3, step-timeout = 90s, reform-delay = 1s, probe-timeout = 3s,",
                        "  step-pause = 300ms }",
                        "dinoj.actors.worker { collective-timeout = 5s, connect-timeout = 45s }",
                        "dinoj.actors.data { slice-size = 8192, fetch-timeout = 8s }",
                        "dinoj.node.management-token = \"t0k3n\"",
                        "akka.cluster.split-brain-resolver.stable-after = 3s",
                        ""));
        int port = 27010 + (int) (ProcessHandle.current().pid() % 200) * 3;
        int mport = 20158 + (int) (ProcessHandle.current().pid() % 200) * 3;
        try (LocalCluster c = LocalCluster.start(
                3, dir, List.of("coordinator", "worker", "data"), conf, port, mport, "1g", List.of())) {
            c.awaitReady(Duration.ofMinutes(3));
            String m1 = c.nodes().get(1).managementUri();
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
                    Integer.toString(EVERY),
                    "--cluster",
                    "--management",
                    c.nodes().get(0).managementUri(),
                    "--token",
                    "t0k3n");
            assertEquals(0, ok.code(), ok.toString());
            assertTrue(
                    Files.isRegularFile(dir.resolve("state").resolve("submitted-run.conf")), "the submission is kept");
            // a run queued behind it survives the hand-over too, and starts when the first has finished
            Path next = dir.resolve("next");
            CliTestSupport.Run queued = CliTestSupport.main(
                    "train",
                    "--config",
                    "fmnist-pico",
                    "--set",
                    "train.batch-size=6",
                    "--set",
                    "data.loader-threads=1",
                    "--out",
                    next.toString(),
                    "--steps",
                    "2",
                    "--cluster",
                    "--management",
                    m1,
                    "--token",
                    "t0k3n");
            assertEquals(0, queued.code(), queued.toString());
            assertTrue(queued.out().contains("queued at position 1"), queued.toString());
            assertTrue(Files.isRegularFile(dir.resolve("state").resolve("queued-runs.conf")), "the queue is kept");

            ClusterTrainingTest.waitForAudit(
                    run, a -> a.stream().anyMatch(l -> l.get("step").asInt() >= EVERY + 1), Duration.ofMinutes(4), c);
            assertTrue(
                    Files.readString(c.nodes().get(0).log()).contains("Coordinator up: run"),
                    "the singleton should run the submitted run on the oldest node (0)");
            c.kill(0);

            long deadline = System.nanoTime() + Duration.ofMinutes(4).toNanos();
            JsonNode st = null;
            while (System.nanoTime() < deadline) {
                String s = ClusterTrainingTest.bodyOrNull(m1 + "/training/status");
                st = s == null ? null : ClusterTrainingTest.JSON.readTree(s);
                if (st != null
                        && st.get("dir").asText().equals(next.toAbsolutePath().toString())) {
                    break;
                }
                Thread.sleep(1000);
            }
            assertTrue(
                    st != null
                            && st.get("dir")
                                    .asText()
                                    .equals(next.toAbsolutePath().toString()),
                    "the queued run did not start after the hand-over: " + st);
            // it waits for min-workers = 3 workers (a new run), of which two are left: nothing to train with yet
            assertEquals("waiting", st.get("phase").asText(), st.toString());
            assertEquals(0, st.get("queue").size(), st.toString());
            assertTrue(Files.notExists(dir.resolve("state").resolve("queued-runs.conf")), "the queue is empty");
            assertTrue(
                    Files.readString(dir.resolve("state").resolve("submitted-run.conf"))
                            .contains(next.toString()),
                    "the started run is now the kept submission");
            assertTrue(
                    Files.isDirectory(run.resolve(String.format("checkpoints/step-%08d", STEPS))),
                    "the first run ended");
            // the singleton moves to the oldest node left (1 or 2, whichever joined first)
            String taken = "Taking over the run submitted earlier";
            assertTrue(
                    Files.readString(c.nodes().get(1).log()).contains(taken)
                            || Files.readString(c.nodes().get(2).log()).contains(taken),
                    "no node took the submitted run over");
            List<JsonNode> audit = ClusterTrainingTest.readAudit(run);
            ClusterTrainingTest.checkAudit(audit, STEPS, EVERY, 6);
            assertEquals(2, ClusterTrainingTest.lastWorldSize(audit), "finished with the two workers left");
        }
    }
}
