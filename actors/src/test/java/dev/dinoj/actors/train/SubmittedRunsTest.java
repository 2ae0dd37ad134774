package dev.dinoj.actors.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.actors.curate.CurateSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The submitted run and the runs queued behind it survive the coordinator's node: both are kept in the state folder. */
class SubmittedRunsTest {

    private static RunSpec spec(String dir, CurateSpec curate, String... sets) {
        Duration s = Duration.ofSeconds(1);
        return new RunSpec("fmnist-pico", List.of(sets), Path.of(dir), 7, 3, 1, s, s, s, s, curate, 3, 0);
    }

    @Test
    void shouldKeepTheQueueInOrderAndForgetItWhenEmpty(@TempDir Path tmp) throws Exception {
        Path state = tmp.resolve("state");
        Config node = ConfigFactory.parseString("dinoj.actors.coordinator { min-workers = 2, step-timeout = 33s }")
                .withFallback(ConfigFactory.load());
        RunSpec a = spec(tmp.resolve("a").toString(), null, "train.batch-size=4", "optim.lr=\"1e-3\"");
        RunSpec b = spec(
                tmp.resolve("b").toString(),
                new CurateSpec(
                        "s3://bkt/pool",
                        "s3://bkt/q",
                        "s3://bkt/out",
                        500,
                        "pixels:28",
                        "thumbnail:20",
                        4,
                        new String[] {"fashion-mnist:test", "curated:s3://bkt/eval"},
                        0.97f));
        SubmittedRuns.saveQueue(state, List.of(a, b));
        List<RunSpec> back = SubmittedRuns.loadQueue(state, node);
        assertEquals(2, back.size());
        assertEquals(a.runDir().toAbsolutePath(), back.get(0).runDir());
        assertEquals(a.sets(), back.get(0).sets());
        assertEquals(7, back.get(0).steps());
        assertEquals(3, back.get(0).checkpointEvery());
        assertNull(back.get(0).curate(), "a run without curation stays without");
        assertEquals(b.curate(), back.get(1).curate());
        assertEquals(2, back.get(1).minWorkers(), "the node's coordinator settings apply to queued runs");
        assertEquals(Duration.ofSeconds(33), back.get(1).stepTimeout());

        SubmittedRuns.save(state, a); // the running run and the queue are separate files
        assertEquals(
                a.runDir().toAbsolutePath(), SubmittedRuns.load(state, node).runDir());
        SubmittedRuns.saveQueue(state, List.of(b));
        assertEquals(
                List.of(b.runDir().toAbsolutePath()),
                SubmittedRuns.loadQueue(state, node).stream()
                        .map(RunSpec::runDir)
                        .toList());
        SubmittedRuns.saveQueue(state, List.of());
        assertFalse(Files.exists(state.resolve(SubmittedRuns.QUEUE_FILE)));
        assertTrue(SubmittedRuns.loadQueue(state, node).isEmpty());
        assertTrue(SubmittedRuns.loadQueue(null, node).isEmpty(), "no state folder, no kept queue");
    }
}
