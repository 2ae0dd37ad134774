package dev.dinoj.actors.train;

import static dev.dinoj.actors.train.ProbeWorker.T;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The run driver's phases with trainer workers played by probes, over real data shards and a real run directory:
 * waiting → probing → forming → stepping → checkpointing → finishing; a lost worker re-forms the world from the
 * committed checkpoint; stop and checkpoint requests; failed, silent and unverifiable ranks; a run taken over.
 */
@Timeout(120)
class RunDriverTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final RunStatus.QueuedRun[] NO_QUEUE = new RunStatus.QueuedRun[0];

    ActorTestKit kit;

    @BeforeEach
    void start() {
        kit = OneNodeCluster.start("RunDriverTest", "");
    }

    @AfterEach
    void stop() {
        kit.shutdownTestKit();
    }

    static RunSpec spec(Path run, long steps, int every, int minWorkers, Duration stepTimeout) {
        return new RunSpec(
                "fmnist-pico",
                List.of("train.batch-size=4"),
                run,
                steps,
                every,
                minWorkers,
                Duration.ofSeconds(5),
                stepTimeout,
                Duration.ofMillis(200),
                Duration.ZERO,
                null,
                3,
                0);
    }

    ActorRef<RunDriver.Command> driver(RunSpec spec, int generationFloor, TestProbe<RunDriver.Ended> parent) {
        return kit.spawn(RunDriver.create(spec, spec.load(), generationFloor, parent.ref()), "run");
    }

    RunStatus status(ActorRef<RunDriver.Command> driver) {
        TestProbe<RunStatus> p = kit.createTestProbe();
        driver.tell(new RunDriver.GetStatus(NO_QUEUE, p.ref()));
        return p.receiveMessage(T);
    }

    Coordinator.Accepted ask(
            ActorRef<RunDriver.Command> driver,
            java.util.function.Function<ActorRef<Coordinator.Accepted>, RunDriver.Command> m) {
        TestProbe<Coordinator.Accepted> p = kit.createTestProbe();
        driver.tell(m.apply(p.ref()));
        return p.receiveMessage(T);
    }

    /** Both workers checkpoint {@code step}: the test writes it as rank 0 would, and both acknowledge. */
    static Path checkpoint(Path run, long step, ProbeWorker... workers) throws Exception {
        TrainerWorker.SaveCheckpoint[] asked = new TrainerWorker.SaveCheckpoint[workers.length];
        for (int i = 0; i < workers.length; i++) {
            asked[i] = workers[i].saveCheckpoint();
            assertEquals(step, asked[i].step());
            assertEquals(run.toString(), asked[i].runDir());
        }
        Path dir = RunStoreTest.checkpoint(run, step);
        for (int i = 0; i < workers.length; i++) {
            workers[i].saved(asked[i], dir);
        }
        return dir;
    }

    static List<JsonNode> audit(Path run) throws Exception {
        List<JsonNode> out = new java.util.ArrayList<>();
        for (String l : Files.readAllLines(run.resolve(RunStore.AUDIT_FILE))) {
            out.add(JSON.readTree(l));
        }
        return out;
    }

    @Test
    void shouldGoThroughItsPhasesToTheEnd(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        TestProbe<RunDriver.Ended> parent = kit.createTestProbe();
        ActorRef<RunDriver.Command> driver = driver(spec(run, 4, 2, 2, T), 5, parent);
        assertEquals("waiting", status(driver).phase());
        String queued = ask(driver, r -> new RunDriver.Queued("fmnist-tiny", dir.resolve("next"), 1, r))
                .message();
        assertTrue(
                queued.contains("run fmnist-tiny queued at position 1: it starts when run fmnist-pico in " + run
                        + " (waiting, step 0) has ended"),
                queued);

        ProbeWorker b = new ProbeWorker(kit, "node-b", 40002);
        ProbeWorker a = new ProbeWorker(kit, "node-a", 40001);
        a.describe();
        assertEquals("probing", status(driver).phase(), "node-b has not answered yet");
        b.describe();
        TrainerWorker.FormWorld fa = a.formWorld();
        TrainerWorker.FormWorld fb = b.formWorld();
        assertEquals(6, fa.generation(), "after the generation floor");
        assertEquals(List.of(0, 1), List.of(fa.rank(), fb.rank()), "ranks in node order");
        assertEquals("127.0.0.1:40001,127.0.0.1:40002", fa.worldSpec());
        assertEquals(fa.secret(), fb.secret(), "one secret for the whole world");
        assertEquals("", fa.checkpoint(), "from scratch");
        assertEquals(10000, fa.datasetSize(), "what the data shards serve");
        assertEquals("forming", status(driver).phase());
        a.join(0);
        b.join(0);

        TrainerWorker.RunStep s0 = a.runStep();
        assertEquals("stepping", status(driver).phase());
        a.done(s0);
        b.step();
        a.step();
        b.step();
        TrainerWorker.SaveCheckpoint c2 = a.probe.expectMessageClass(TrainerWorker.SaveCheckpoint.class, T);
        assertEquals("checkpointing", status(driver).phase());
        Path ck2 = RunStoreTest.checkpoint(run, 2);
        a.saved(c2, ck2);
        b.saved(b.saveCheckpoint(), ck2);
        for (int s = 2; s < 4; s++) {
            assertEquals(s, a.step());
            assertEquals(s, b.step());
        }
        Path ck4 = checkpoint(run, 4, a, b);
        a.leaves(6);
        b.leaves(6);

        RunStatus end = parent.expectMessageClass(RunDriver.Ended.class, T).status();
        assertEquals("finished", end.phase());
        assertEquals("finished 4 steps", end.message());
        assertEquals(0, end.imagesSkipped(), "no image over the pixel guard");
        assertEquals(4, end.committedStep());
        assertEquals(ck4.toString(), end.checkpoint());
        assertEquals(16, end.samplerPosition());
        assertEquals(2, end.workers().length);
        assertEquals(
                List.of(1.0, 0.5, 1.0 / 3, 0.25),
                java.util.Arrays.stream(end.recentLosses()).boxed().toList());
        List<JsonNode> lines = audit(run);
        assertEquals(4, lines.size());
        for (int s = 0; s < 4; s++) {
            assertEquals(s, lines.get(s).get("step").asInt());
            assertEquals(6, lines.get(s).get("generation").asInt());
            assertEquals(
                    "[" + 4 * s + "," + (4 * s + 1) + "," + (4 * s + 2) + "," + (4 * s + 3) + "]",
                    lines.get(s).get("positions").toString(),
                    "every sample once, in order");
        }
        List<String> metrics = Files.readAllLines(run.resolve(RunStore.METRICS_FILE));
        assertEquals(4, metrics.size(), "one metrics line per step, as a single-JVM run writes: " + metrics);
        for (int s = 0; s < 4; s++) {
            JsonNode m = JSON.readTree(metrics.get(s));
            assertEquals(s + 1, m.get("step").asInt());
            assertEquals(end.recentLosses()[s], m.get("total_loss").asDouble());
            assertTrue(m.has("lr") && m.get("momentum").asDouble() > 0.9, metrics.get(s));
            assertEquals(2, m.get("world_size").asInt());
        }
        JsonNode state = JSON.readTree(run.resolve(RunStore.STATE_FILE).toFile());
        assertEquals("finished", state.get("phase").asText());
        assertFalse(state.toString().contains(Long.toString(fa.secret())), "the secret is not kept on disk");
        assertEquals(6, state.get("generation").asInt());
        assertEquals(4, state.get("committed_step").asInt());
        // the ended driver still answers until its parent releases it, then stops
        TestProbe<RunStatus> asked = kit.createTestProbe();
        driver.tell(new RunDriver.GetStatus(new RunStatus.QueuedRun[0], asked.ref()));
        assertEquals("finished", asked.receiveMessage(T).phase());
        driver.tell(new RunDriver.Release());
        kit.createTestProbe().expectTerminated(driver, T);
    }

    @Test
    void shouldReformWithTheWorkersLeftFromTheCommittedCheckpoint(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        TestProbe<RunDriver.Ended> parent = kit.createTestProbe();
        ActorRef<RunDriver.Command> driver = driver(spec(run, 4, 2, 2, T), 0, parent);
        ProbeWorker a = new ProbeWorker(kit, "node-a", 40001);
        ProbeWorker b = new ProbeWorker(kit, "node-b", 40002);
        // images over the pixel guard, skipped by the ranks' data shards: the run counts each once
        a.skipping = step -> step == 0 ? new long[] {7} : step == 3 ? new long[] {7, 51} : new long[0];
        b.skipping = step -> step == 0 ? new long[] {7, 30} : new long[0];
        a.describe();
        b.describe();
        long first = a.formWorld().secret();
        b.formWorld();
        a.join(0);
        b.join(0);
        for (int s = 0; s < 2; s++) {
            a.step();
            b.step();
        }
        Path ck2 = checkpoint(run, 2, a, b);
        a.step(); // step 2: a answers, b is lost before it does
        b.runStep();
        b.probe.stop();
        a.leaves(1);

        a.describe();
        TrainerWorker.FormWorld f = a.formWorld();
        assertEquals(2, f.generation());
        assertEquals(0, f.rank());
        assertEquals("127.0.0.1:40001", f.worldSpec(), "alone: a run that formed before re-forms with whoever is left");
        assertEquals(ck2.toString(), f.checkpoint());
        assertNotEquals(first, f.secret(), "a new generation, a new secret");
        RunStatus reforming = status(driver);
        assertEquals(1, reforming.restarts());
        assertEquals(2, reforming.imagesSkipped(), "7 and 30, met by both ranks in step 0: " + reforming);
        assertTrue(reforming.message().contains("worker node-b left the cluster"), reforming.message());
        a.join(2);
        assertEquals(2, a.step(), "resumed at the committed step");
        assertEquals(3, a.step());
        checkpoint(run, 4, a);
        a.leaves(2);
        RunStatus end = parent.expectMessageClass(RunDriver.Ended.class, T).status();
        assertEquals("finished", end.phase());
        assertEquals(1, end.restarts());
        assertEquals(3, end.imagesSkipped(), "7, 30 and 51");
        assertEquals(
                "[7,30,51]",
                JSON.readTree(run.resolve(RunStore.STATE_FILE).toFile())
                        .get("skipped_images")
                        .toString(),
                "recorded for the next coordinator");
        List<JsonNode> lines = audit(run);
        assertEquals("[7,30]", lines.get(0).get("skipped").toString(), "the union of the ranks'");
        assertTrue(lines.get(1).get("skipped") == null, "none skipped in step 1");
        assertEquals(
                List.of(0, 1, 2, 3),
                lines.stream().map(l -> l.get("step").asInt()).toList());
        assertEquals(
                List.of(2, 2, 1, 1),
                lines.stream().map(l -> l.get("world_size").asInt()).toList());
        assertEquals("[8,9,10,11]", lines.get(2).get("positions").toString(), "the same samples as without the loss");
        List<JsonNode> metrics = new java.util.ArrayList<>();
        for (String l : Files.readAllLines(run.resolve(RunStore.METRICS_FILE))) {
            metrics.add(JSON.readTree(l));
        }
        assertEquals(
                List.of(1, 2, 3, 4),
                metrics.stream().map(m -> m.get("step").asInt()).toList());
        assertEquals(
                List.of(2, 2, 1, 1),
                metrics.stream().map(m -> m.get("world_size").asInt()).toList());
    }

    @Test
    void shouldTakeAWorkerThatJoinsInAtTheNextCheckpointOnTheSameStream(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        TestProbe<RunDriver.Ended> parent = kit.createTestProbe();
        ActorRef<RunDriver.Command> driver = driver(spec(run, 4, 2, 1, T), 0, parent);
        ProbeWorker a = new ProbeWorker(kit, "node-a", 40001);
        a.describe();
        assertEquals("127.0.0.1:40001", a.formWorld().worldSpec());
        a.join(0);
        assertEquals(0, a.step());
        ProbeWorker b = new ProbeWorker(kit, "node-b", 40002); // joins while the world trains
        // the cluster receptionist lists it within its gossip interval; it is not asked before the checkpoint
        b.probe.expectNoMessage(Duration.ofSeconds(3));
        assertEquals(1, a.step());
        Path ck2 = checkpoint(run, 2, a);
        a.leaves(1);
        assertTrue(
                status(driver).message().contains("taking the new ones in at step 2"),
                status(driver).message());
        a.describe();
        b.describe();
        TrainerWorker.FormWorld fa = a.formWorld();
        TrainerWorker.FormWorld fb = b.formWorld();
        assertEquals(2, fa.generation());
        assertEquals("127.0.0.1:40001,127.0.0.1:40002", fb.worldSpec());
        assertEquals(ck2.toString(), fb.checkpoint(), "from the checkpoint just committed: nothing is redone");
        a.join(2);
        b.join(2);
        for (int s = 2; s < 4; s++) {
            assertEquals(s, a.step());
            assertEquals(s, b.step());
        }
        checkpoint(run, 4, a, b);
        a.leaves(2);
        b.leaves(2);
        RunStatus end = parent.expectMessageClass(RunDriver.Ended.class, T).status();
        assertEquals("finished", end.phase());
        assertEquals(0, end.restarts(), "growing is not a failure");
        List<JsonNode> lines = audit(run);
        assertEquals(
                List.of(0, 1, 2, 3),
                lines.stream().map(l -> l.get("step").asInt()).toList());
        assertEquals(
                List.of(1, 1, 2, 2),
                lines.stream().map(l -> l.get("world_size").asInt()).toList());
        for (int s = 0; s < 4; s++) {
            assertEquals(
                    "[" + 4 * s + "," + (4 * s + 1) + "," + (4 * s + 2) + "," + (4 * s + 3) + "]",
                    lines.get(s).get("positions").toString(),
                    "the same sample stream, whatever the world size");
        }
    }

    @Test
    void shouldCheckpointOnRequestAndStopAfterTheStepInFlight(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        TestProbe<RunDriver.Ended> parent = kit.createTestProbe();
        ActorRef<RunDriver.Command> driver = driver(spec(run, 10, 5, 1, T), 0, parent);
        ProbeWorker a = new ProbeWorker(kit, "node-a", 40001);
        a.describe();
        a.formWorld();
        a.join(0);
        TrainerWorker.RunStep s0 = a.runStep();
        assertEquals(
                "a checkpoint follows the step in flight",
                ask(driver, RunDriver.CheckpointNow::new).message());
        a.done(s0);
        Path ck1 = checkpoint(run, 1, a);
        TrainerWorker.RunStep s1 = a.runStep();
        Coordinator.Accepted stop = ask(driver, r -> new RunDriver.Stop(2, r));
        assertTrue(stop.ok());
        assertEquals(
                "the run stops after the step in flight; then the next of 2 queued runs starts "
                        + "(POST /training/cancel takes one out)",
                stop.message());
        a.done(s1);
        a.leaves(1);
        RunStatus end = parent.expectMessageClass(RunDriver.Ended.class, T).status();
        assertEquals("stopped", end.phase());
        assertEquals("stopped on request after step 2", end.message());
        assertEquals(1, end.committedStep());
        assertEquals(ck1.toString(), end.checkpoint());
        a.probe.expectNoMessage(Duration.ofMillis(300));
    }

    @Test
    void shouldStopAtOnceWhileWaiting(@TempDir Path dir) {
        TestProbe<RunDriver.Ended> parent = kit.createTestProbe();
        ActorRef<RunDriver.Command> driver = driver(spec(dir.resolve("run"), 4, 2, 3, T), 0, parent);
        assertEquals(
                "the run stops after the step in flight",
                ask(driver, r -> new RunDriver.Stop(0, r)).message());
        RunStatus end = parent.expectMessageClass(RunDriver.Ended.class, T).status();
        assertEquals("stopped", end.phase());
        assertEquals("stopped on request at step 0", end.message());
    }

    @Test
    void shouldAbortAFailedStepASilentRankAndACheckpointThatDoesNotVerify(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        TestProbe<RunDriver.Ended> parent = kit.createTestProbe();
        ActorRef<RunDriver.Command> driver = driver(spec(run, 4, 2, 2, Duration.ofSeconds(2)), 0, parent);
        ProbeWorker a = new ProbeWorker(kit, "node-a", 40001);
        ProbeWorker b = new ProbeWorker(kit, "node-b", 40002);
        formBoth(a, b);
        a.step();
        TrainerWorker.RunStep s0 = b.runStep();
        b.world().driver().tell(new RunDriver.StepFailed(s0.generation(), 0, 1, "TRANSIENT", "boom"));
        a.leaves(1);
        b.leaves(1);
        assertTrue(status(driver).message().contains("step 0 failed on rank 1: boom"));

        formBoth(a, b); // generation 2: rank 1 goes silent
        a.step();
        b.runStep();
        a.leaves(2);
        b.leaves(2);
        RunStatus silent = status(driver);
        assertEquals(2, silent.restarts());
        assertTrue(silent.message().contains("stepping got no answer from ranks [1] within 2 s"), silent.message());

        formBoth(a, b); // generation 3: the checkpoint's files are damaged
        for (int s = 0; s < 2; s++) {
            a.step();
            b.step();
        }
        TrainerWorker.SaveCheckpoint ca = a.saveCheckpoint();
        TrainerWorker.SaveCheckpoint cb = b.saveCheckpoint();
        Path ck = RunStoreTest.checkpoint(run, 2);
        Files.writeString(ck.resolve("shard-00000-of-00001.safetensors"), "torn");
        a.saved(ca, ck);
        b.saved(cb, ck);
        a.leaves(3);
        b.leaves(3);
        RunStatus unverified =
                parent.expectMessageClass(RunDriver.Ended.class, T).status();
        assertEquals(
                "failed", unverified.phase(), "a checkpoint that does not verify ends the run: no endless re-form");
        assertEquals(2, unverified.restarts());
        assertEquals(-1, unverified.committedStep());
        assertTrue(unverified.message().startsWith("failed (checkpoint) at step 2: "), unverified.message());
        assertTrue(unverified.message().contains("does not verify"), unverified.message());
        JsonNode last = audit(run).get(audit(run).size() - 1);
        assertEquals("failed", last.get("event").asText());
        assertEquals("checkpoint", last.get("cause").asText());
    }

    @Test
    void shouldEndADivergedRunAtOnceAndARunWhoseStepKeepsFailing(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        TestProbe<RunDriver.Ended> parent = kit.createTestProbe();
        ActorRef<RunDriver.Command> driver = driver(spec(run, 4, 2, 2, T), 0, parent);
        ProbeWorker a = new ProbeWorker(kit, "node-a", 40001);
        ProbeWorker b = new ProbeWorker(kit, "node-b", 40002);
        formBoth(a, b);
        a.step();
        TrainerWorker.RunStep s0 = b.runStep();
        b.world()
                .driver()
                .tell(new RunDriver.StepFailed(
                        s0.generation(), 0, 1, "DIVERGED", "training diverged at step 0: total loss is NaN"));
        RunStatus diverged = parent.expectMessageClass(RunDriver.Ended.class, T).status();
        assertEquals("failed", diverged.phase());
        assertEquals(0, diverged.restarts(), "no world re-formed");
        assertTrue(
                diverged.message().startsWith("failed (diverged) at step 0: step 0 failed on rank 1"),
                diverged.message());
        a.leaves(1);
        b.leaves(1);
        JsonNode line = audit(run).get(audit(run).size() - 1);
        assertEquals("diverged", line.get("cause").asText());
        a.probe.expectNoMessage(Duration.ofMillis(300)); // never a new FormWorld

        Path run2 = dir.resolve("run2");
        TestProbe<RunDriver.Ended> parent2 = kit.createTestProbe();
        ActorRef<RunDriver.Command> driver2 = kit.spawn(
                RunDriver.create(spec(run2, 4, 2, 2, T), spec(run2, 4, 2, 2, T).load(), 10, parent2.ref()), "run2");
        for (int attempt = 1; attempt <= 3; attempt++) {
            formBoth(a, b);
            a.step();
            TrainerWorker.RunStep s = b.runStep();
            b.world().driver().tell(new RunDriver.StepFailed(s.generation(), 0, 1, "TRANSIENT", "io " + attempt));
            a.leaves(s.generation());
            b.leaves(s.generation());
            if (attempt < 3) {
                assertEquals(attempt, status(driver2).restarts(), "re-formed after failure " + attempt);
            }
        }
        RunStatus stuck = parent2.expectMessageClass(RunDriver.Ended.class, T).status();
        assertEquals("failed", stuck.phase());
        assertTrue(
                stuck.message().contains("step 0 failed 3 times (dinoj.actors.coordinator.max-step-retries = 3)"),
                stuck.message());
        assertTrue(stuck.message().contains("io 3"), stuck.message());
    }

    /** Both answer the probe, join the world formed at step 0. */
    private static void formBoth(ProbeWorker a, ProbeWorker b) {
        a.describe();
        b.describe();
        a.formWorld();
        b.formWorld();
        a.join(0);
        b.join(0);
    }

    @Test
    void shouldTakeOverARunFromItsDirectory(@TempDir Path dir) throws Exception {
        Path run = dir.resolve("run");
        Files.createDirectories(run);
        Path ck2 = RunStoreTest.checkpoint(run, 2);
        Files.writeString(
                run.resolve(RunStore.STATE_FILE),
                "{\"phase\": \"stepping\", \"generation\": 4, " + "\"restarts\": 1, \"committed_step\": 2, "
                        + "\"skipped_images\": [3, 9]}");
        TestProbe<RunDriver.Ended> parent = kit.createTestProbe();
        ActorRef<RunDriver.Command> driver = driver(spec(run, 4, 2, 3, T), 0, parent);
        ProbeWorker a = new ProbeWorker(kit, "node-a", 40001);
        a.describe();
        TrainerWorker.FormWorld f = a.formWorld();
        assertEquals(5, f.generation(), "never a generation recorded before");
        assertEquals(ck2.toString(), f.checkpoint());
        assertEquals(2, status(driver).step());
        assertEquals(2, status(driver).imagesSkipped(), "the images skipped before the hand-over");
        kit.stop(driver);

        Files.writeString(
                run.resolve(RunStore.STATE_FILE),
                "{\"phase\": \"finished\", \"generation\": 5, " + "\"message\": \"finished 4 steps\", "
                        + "\"skipped_images\": [3, 9, 12]}");
        ActorRef<RunDriver.Command> again = kit.spawn(
                RunDriver.create(spec(run, 4, 2, 3, T), spec(run, 4, 2, 3, T).load(), 0, parent.ref()), "again");
        RunStatus end = parent.expectMessageClass(RunDriver.Ended.class, T).status();
        assertEquals("finished", end.phase(), "a run that had ended is reported ended");
        assertEquals("finished 4 steps", end.message());
        assertEquals(3, end.imagesSkipped(), "an ended run's count as recorded");
        again.tell(new RunDriver.Release());
        kit.createTestProbe().expectTerminated(again, T);
    }
}
