package dev.dinoj.actors.train;

import static dev.dinoj.actors.train.ProbeWorker.T;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code train.max-minutes} on a cluster run: the coordinator's clock starts with the first step; when it is up the
 * run checkpoints after the step in flight and stops, as a single-JVM run does (it was ignored before).
 */
@Timeout(120)
class RunDriverTimeLimitTest {

    ActorTestKit kit;

    @BeforeEach
    void start() {
        kit = OneNodeCluster.start("RunDriverTimeLimitTest", "");
    }

    @AfterEach
    void stop() {
        kit.shutdownTestKit();
    }

    @Test
    void shouldCheckpointAndStopWhenTheTimeLimitIsReached(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        RunSpec spec = new RunSpec(
                "fmnist-pico",
                List.of("train.batch-size=4", "train.max-minutes=0.05", "train.epoch-length=100000"),
                run,
                0,
                1_000_000,
                1,
                Duration.ofSeconds(5),
                T,
                Duration.ofMillis(200),
                Duration.ZERO,
                null,
                3,
                0);
        TestProbe<RunDriver.Ended> parent = kit.createTestProbe();
        kit.spawn(RunDriver.create(spec, spec.load(), 0, parent.ref()), "run");
        ProbeWorker a = new ProbeWorker(kit, "node-a", 40001);
        a.describe();
        a.formWorld();
        a.join(0);
        long t0 = System.nanoTime();
        int checkpoints = 0;
        long steps = 0;
        while (true) {
            TrainerWorker.Command m = a.probe.receiveMessage(T);
            if (m instanceof TrainerWorker.RunStep s) {
                a.done(s);
                steps++;
            } else if (m instanceof TrainerWorker.SaveCheckpoint c) {
                a.saved(c, RunStoreTest.checkpoint(run, c.step()));
                checkpoints++;
            } else if (m instanceof TrainerWorker.LeaveWorld) {
                break;
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        RunStatus end = parent.expectMessageClass(RunDriver.Ended.class, T).status();
        assertEquals("stopped", end.phase());
        assertEquals("dinoj.train.max-minutes reached after step " + steps, end.message());
        assertEquals(1, checkpoints, "one checkpoint, at the time limit");
        assertEquals(steps, end.committedStep());
        assertTrue(steps > 3 && steps < 1_000_000, "steps " + steps);
        assertTrue(seconds >= 3 && seconds < 20, "stopped at the 3 s limit: " + seconds);
    }
}
