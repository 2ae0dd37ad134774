package dev.dinoj.actors.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The coordinator's queue: order, refusals, cancel, and the state folder a next coordinator reads. */
class RunQueueTest {

    static final Config NODE = ConfigFactory.load();

    private static RunSpec spec(Path dir) {
        Duration s = Duration.ofSeconds(1);
        return new RunSpec("fmnist-pico", List.of(), dir, 2, 1, 1, s, s, s, s, null, 3, 0);
    }

    @Test
    void shouldQueueInOrderAndHandTheQueueToTheNextCoordinator(@TempDir Path tmp) {
        Path state = tmp.resolve("state");
        RunQueue q = new RunQueue(state, NODE, 16);
        RunSpec running = spec(tmp.resolve("run"));
        assertNull(q.keepRunning(running));
        assertNull(q.enqueue(spec(tmp.resolve("a")), running));
        assertNull(q.enqueue(spec(tmp.resolve("b")), running));
        assertEquals(2, q.size());
        assertEquals(tmp.resolve("a").toAbsolutePath().toString(), q.views()[0].dir());

        RunQueue next = new RunQueue(state, NODE, 16); // the singleton moved
        assertNull(next.restore());
        assertEquals(running.runDir().toAbsolutePath(), next.kept().runDir());
        assertEquals(
                List.of(tmp.resolve("a").toAbsolutePath(), tmp.resolve("b").toAbsolutePath()),
                List.of(
                        next.poll().orElseThrow().runDir(),
                        next.poll().orElseThrow().runDir()));
        assertTrue(next.poll().isEmpty());
        assertFalse(Files.exists(state.resolve(SubmittedRuns.QUEUE_FILE)), "an empty queue leaves no file");

        next.forgetRunning(spec(tmp.resolve("other"))); // only the kept run's own end clears it
        assertTrue(Files.exists(state.resolve(SubmittedRuns.FILE)));
        next.forgetRunning(running);
        assertNull(new RunQueue(state, NODE, 16).kept(), "an ended run is not taken over");
    }

    @Test
    void shouldRefuseARunDirectoryInUseAndAFullQueue(@TempDir Path tmp) {
        RunQueue q = new RunQueue(null, NODE, 1);
        RunSpec running = spec(tmp.resolve("run"));
        String busy = q.enqueue(spec(tmp.resolve("run/../run")), running);
        assertTrue(busy.contains("is the directory of a run that is running or queued"), busy);
        assertNull(q.enqueue(spec(tmp.resolve("a")), running));
        assertTrue(q.enqueue(spec(tmp.resolve("a")), running).contains("running or queued"));
        String full = q.enqueue(spec(tmp.resolve("b")), running);
        assertTrue(full.contains("1 runs are queued already (dinoj.actors.coordinator.max-queued = 1)"), full);
        assertEquals(1, q.size());
    }

    @Test
    void shouldCancelAQueuedRunByItsDirectory(@TempDir Path tmp) {
        Path state = tmp.resolve("state");
        RunQueue q = new RunQueue(state, NODE, 16);
        RunSpec running = spec(tmp.resolve("run"));
        q.enqueue(spec(tmp.resolve("a")), running);
        q.enqueue(spec(tmp.resolve("b")), running);
        assertTrue(q.cancel(tmp.resolve("run")).isEmpty(), "the running run is not in the queue");
        assertEquals(
                tmp.resolve("a").toAbsolutePath(),
                q.cancel(tmp.resolve("a")).orElseThrow().runDir().toAbsolutePath());
        assertTrue(q.cancel(tmp.resolve("a")).isEmpty());
        RunQueue next = new RunQueue(state, NODE, 16);
        next.restore();
        assertEquals(1, next.size());
        assertEquals(tmp.resolve("b").toAbsolutePath().toString(), next.views()[0].dir());
    }

    @Test
    void shouldRefuseWhatItCannotKeep(@TempDir Path tmp) throws Exception {
        Path state = tmp.resolve("state");
        Files.writeString(state, "a file where the folder should be");
        RunQueue q = new RunQueue(state, NODE, 16);
        String why = q.keepRunning(spec(tmp.resolve("run")));
        assertTrue(why.contains("cannot keep it in dinoj.actors.coordinator.state-dir = " + state), why);
        String refused = q.enqueue(spec(tmp.resolve("a")), spec(tmp.resolve("run")));
        assertTrue(refused.startsWith("run refused: cannot keep it"), refused);
        assertEquals(0, q.size(), "a run that cannot be kept is not queued");
    }
}
