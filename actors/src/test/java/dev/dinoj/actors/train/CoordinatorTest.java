package dev.dinoj.actors.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The coordinator's requests in one JVM (no workers, so a run waits): submit, queue, cancel, stop, the next queued
 * run, and the hand-over of the submitted run and the queue to the next coordinator through the state folder.
 */
@Timeout(120)
class CoordinatorTest {

    static final Duration T = Duration.ofSeconds(30);
    ActorTestKit kit;

    @AfterEach
    void stop() {
        kit.shutdownTestKit();
    }

    /** A node whose submitted runs may have their directories and config files next to {@code state}. */
    void start(Path state, String extra) {
        String roots = "[\"" + state.getParent() + "\"]";
        kit = OneNodeCluster.start(
                "CoordinatorTest",
                "dinoj.actors.coordinator { state-dir = \"" + state + "\", reform-delay = 100ms, run-roots = " + roots
                        + ", config-roots = " + roots + " }\n" + extra);
    }

    ActorRef<Coordinator.Command> coordinator(String name) {
        return kit.spawn(
                Coordinator.create(RunSpec.fromConfig(kit.system().settings().config())), name);
    }

    Coordinator.Accepted ask(
            ActorRef<Coordinator.Command> c, Function<ActorRef<Coordinator.Accepted>, Coordinator.Command> m) {
        TestProbe<Coordinator.Accepted> p = kit.createTestProbe();
        c.tell(m.apply(p.ref()));
        return p.receiveMessage(T);
    }

    RunStatus status(ActorRef<Coordinator.Command> c) {
        TestProbe<RunStatus> p = kit.createTestProbe();
        c.tell(new Coordinator.GetStatus(p.ref()));
        return p.receiveMessage(T);
    }

    static Function<ActorRef<Coordinator.Accepted>, Coordinator.Command> submit(Path dir, long steps) {
        return r -> new Coordinator.Submit(
                "fmnist-pico", new String[] {"train.batch-size=4"}, dir.toString(), steps, 0, null, r);
    }

    @Test
    void shouldQueueCancelStopAndStartTheNextRun(@TempDir Path dir) throws Exception {
        start(dir.resolve("state"), "");
        ActorRef<Coordinator.Command> c = coordinator("coordinator");
        RunStatus idle = status(c);
        assertEquals("idle", idle.phase());
        assertFalse(ask(c, Coordinator.Stop::new).ok());
        assertTrue(ask(
                        c,
                        r -> new Coordinator.Submit(
                                "no-such-preset",
                                new String[0],
                                dir.resolve("x").toString(),
                                0,
                                0,
                                null,
                                r))
                .message()
                .startsWith("run refused:"));

        Coordinator.Accepted first = ask(c, submit(dir.resolve("run"), 3));
        assertEquals("run fmnist-pico accepted: 3 steps in " + dir.resolve("run"), first.message());
        RunStatus waiting = status(c);
        assertEquals("waiting", waiting.phase(), "no workers");
        assertEquals(3, waiting.totalSteps());
        assertFalse(ask(c, submit(dir.resolve("run"), 2)).ok(), "a run directory holds one run");
        Coordinator.Accepted queued = ask(c, submit(dir.resolve("next"), 2));
        assertTrue(
                queued.message()
                        .startsWith("run fmnist-pico queued at position 1: it starts when run fmnist-pico in "
                                + dir.resolve("run") + " (waiting, step 0) has ended"),
                queued.message());
        assertTrue(ask(c, submit(dir.resolve("third"), 2)).ok());
        assertEquals(2, status(c).queue().length);
        assertEquals(
                "queued run fmnist-pico in " + dir.resolve("third") + " cancelled (1 left in the queue)",
                ask(c, r -> new Coordinator.Cancel(dir.resolve("third").toString(), r))
                        .message());
        assertTrue(ask(c, r -> new Coordinator.Cancel(dir.resolve("run").toString(), r))
                .message()
                .contains("is the running run; stop it with POST /training/stop"));

        assertTrue(ask(c, Coordinator.Stop::new).message().contains("then the next of 1 queued runs starts"));
        RunStatus next;
        long deadline = System.nanoTime() + T.toNanos();
        do {
            Thread.sleep(100);
            next = status(c);
            assertTrue(System.nanoTime() < deadline, "the queued run did not start: " + next.dir());
        } while (!next.dir().equals(dir.resolve("next").toAbsolutePath().toString()));
        assertEquals("waiting", next.phase());
        assertEquals(0, next.queue().length);
        assertEquals(
                "stopped",
                RunStoreTest.JSON
                        .readTree(
                                dir.resolve("run").resolve(RunStore.STATE_FILE).toFile())
                        .get("phase")
                        .asText(),
                "the stopped run's end is recorded");
        assertTrue(
                Files.readString(dir.resolve("state").resolve(SubmittedRuns.FILE))
                        .contains(dir.resolve("next").toString()),
                "the started run is the kept submission");
    }

    @Test
    void shouldShowAQueuedRunThatCannotStartAsFailedAndStartTheOneAfterIt(@TempDir Path dir) throws Exception {
        start(dir.resolve("state"), "dinoj.actors.coordinator.reform-delay = 1s"); // the failed one shows for 1 s
        ActorRef<Coordinator.Command> c = coordinator("coordinator");
        assertTrue(ask(c, submit(dir.resolve("run"), 3)).ok());
        Path config = dir.resolve("gone.conf");
        Files.writeString(config, "dinoj.train.batch-size = 4\n");
        assertTrue(ask(
                        c,
                        r -> new Coordinator.Submit(
                                config.toString(),
                                new String[0],
                                dir.resolve("gone").toString(),
                                2,
                                0,
                                null,
                                r))
                .ok());
        assertTrue(ask(c, submit(dir.resolve("third"), 2)).ok());
        Files.delete(config); // its config vanishes while it waits
        assertTrue(ask(c, Coordinator.Stop::new).ok());
        RunStatus failed = await(
                c, s -> s.dir().equals(dir.resolve("gone").toAbsolutePath().toString()));
        assertEquals("failed", failed.phase());
        assertTrue(
                failed.message()
                        .startsWith("queued run " + config + " in " + dir.resolve("gone") + " could not start: "),
                failed.message());
        RunStatus third = await(
                c, s -> s.dir().equals(dir.resolve("third").toAbsolutePath().toString()));
        assertEquals("waiting", third.phase());
    }

    /** Polls the status until {@code done} holds. */
    RunStatus await(ActorRef<Coordinator.Command> c, java.util.function.Predicate<RunStatus> done)
            throws InterruptedException {
        long deadline = System.nanoTime() + T.toNanos();
        RunStatus s = status(c);
        while (!done.test(s)) {
            assertTrue(System.nanoTime() < deadline, "not reached: " + s.phase() + " " + s.dir());
            Thread.sleep(20);
            s = status(c);
        }
        return s;
    }

    @Test
    void shouldHandTheSubmittedRunAndTheQueueToTheNextCoordinator(@TempDir Path dir) {
        start(dir.resolve("state"), "");
        ActorRef<Coordinator.Command> c = coordinator("first");
        assertTrue(ask(c, submit(dir.resolve("run"), 3)).ok());
        assertTrue(ask(c, submit(dir.resolve("next"), 2)).ok());
        kit.stop(c); // the singleton's node is gone

        ActorRef<Coordinator.Command> taken = coordinator("second");
        RunStatus s = status(taken);
        assertEquals(dir.resolve("run").toAbsolutePath().toString(), s.dir(), "the submitted run is taken over");
        assertEquals("waiting", s.phase());
        assertEquals(1, s.queue().length);
        assertEquals(dir.resolve("next").toAbsolutePath().toString(), s.queue()[0].dir());
    }

    /**
     * Issue #17 item 6: a kept submission that can no longer start (its config is gone) fails once, shown in the
     * status, and is forgotten; the coordinator does not fail at every restart (a crash loop) and starts the queue.
     */
    @Test
    void shouldFailAKeptRunThatCannotStartOnceAndGoOn(@TempDir Path dir) throws Exception {
        start(dir.resolve("state"), "dinoj.actors.coordinator.reform-delay = 2s"); // the failed one shows for 2 s
        Duration s = Duration.ofSeconds(1);
        RunSpec gone = new RunSpec(
                dir.resolve("gone.conf").toString(), List.of(), dir.resolve("gone"), 2, 0, 1, s, s, s, s, null, 3, 0);
        SubmittedRuns.save(dir.resolve("state"), gone);
        SubmittedRuns.saveQueue(
                dir.resolve("state"),
                List.of(new RunSpec("fmnist-pico", List.of(), dir.resolve("next"), 2, 0, 1, s, s, s, s, null, 3, 0)));

        ActorRef<Coordinator.Command> c = coordinator("first");
        RunStatus failed = status(c);
        assertEquals(dir.resolve("gone").toAbsolutePath().toString(), failed.dir());
        assertEquals("failed", failed.phase());
        assertTrue(failed.message().contains("could not start"), failed.message());
        assertFalse(Files.exists(dir.resolve("state").resolve(SubmittedRuns.FILE)), "the kept run is forgotten");
        RunStatus next = await(
                c, st -> st.dir().equals(dir.resolve("next").toAbsolutePath().toString()));
        assertEquals("waiting", next.phase(), "the queue goes on");
    }

    @Test
    void shouldRefuseSubmissionsWhenTheNodeConfigFixesTheRun(@TempDir Path dir) {
        start(
                dir.resolve("state"),
                "dinoj.actors.coordinator.run { config = fmnist-pico, steps = 2, dir = \"" + dir.resolve("fixed")
                        + "\" }");
        ActorRef<Coordinator.Command> c = coordinator("coordinator");
        assertEquals(dir.resolve("fixed").toAbsolutePath().toString(), status(c).dir());
        Coordinator.Accepted refused = ask(c, submit(dir.resolve("run"), 3));
        assertFalse(refused.ok());
        assertTrue(refused.message().contains("fixed by the node config"), refused.message());
    }
}
