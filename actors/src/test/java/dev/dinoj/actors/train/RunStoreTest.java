package dev.dinoj.actors.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.trainer.checkpoint.AtomicDirectory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The run driver's files, written off the caller's thread in the order asked. */
class RunStoreTest {

    static final ObjectMapper JSON = new ObjectMapper();
    /** Several threads: the store itself must keep the order. */
    static final ExecutorService IO = Executors.newFixedThreadPool(4);

    @AfterAll
    static void shutdown() {
        IO.shutdownNow();
    }

    static <T> T await(CompletionStage<T> s) throws Exception {
        return s.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    static RunDriver.StepDone done(int rank, long step, long first, String... keys) {
        return new RunDriver.StepDone(
                1,
                step,
                rank,
                2.5 + rank,
                new String[] {"dino"},
                new double[] {2.5},
                new long[] {first, first + 1},
                new long[] {40 + first, 41 + first},
                keys,
                new long[0],
                0.1);
    }

    @Test
    void shouldAppendTheAuditInOrderAndWriteTheState(@TempDir Path run) throws Exception {
        RunStore store = new RunStore(run, IO);
        RunStore.Restored fresh = await(store.restore(null));
        assertEquals(-1, fresh.committedStep());
        assertEquals("", fresh.endPhase());
        List<CompletionStage<?>> writes = new ArrayList<>();
        for (long step = 0; step < 50; step++) {
            writes.add(store.audit(
                    1, step, 2, List.of(done(0, step, 4 * step, "", ""), done(1, step, 4 * step + 2, "", ""))));
        }
        await(store.save(new RunStore.State("stepping", 1, 0, -1, "", 0, "")));
        for (CompletionStage<?> w : writes) {
            assertTrue(w.toCompletableFuture().isDone(), "the state was written after every line asked before it");
        }
        List<String> lines = Files.readAllLines(run.resolve(RunStore.AUDIT_FILE));
        assertEquals(50, lines.size());
        for (int s = 0; s < 50; s++) {
            JsonNode l = JSON.readTree(lines.get(s));
            assertEquals(s, l.get("step").asInt());
            assertEquals(2, l.get("world_size").asInt());
            assertEquals(
                    "[" + 4 * s + "," + (4 * s + 1) + "," + (4 * s + 2) + "," + (4 * s + 3) + "]",
                    l.get("positions").toString());
            assertTrue(l.get("keys") == null, "no keys when no sample has one");
            assertEquals(2.5, l.get("loss").asDouble(), "rank 0's loss");
        }
        JsonNode state = JSON.readTree(run.resolve(RunStore.STATE_FILE).toFile());
        assertEquals("stepping", state.get("phase").asText());
    }

    @Test
    void shouldWriteKeysWhenASampleHasOne() throws Exception {
        JsonNode l = JSON.readTree(
                RunStore.auditLine(3, 7, 2, List.of(done(0, 7, 0, "pool/a.png", ""), done(1, 7, 2, "", "pool/d.png"))));
        assertEquals("[\"pool/a.png\",\"\",\"\",\"pool/d.png\"]", l.get("keys").toString());
        assertEquals(3, l.get("generation").asInt());
        assertEquals("[40,41,42,43]", l.get("indices").toString());
        assertTrue(l.get("skipped") == null, "no image skipped");
    }

    /**
     * The images skipped over the pixel guard: each step's line names them (the ranks' union) and
     * {@code run-state.json} records the run's, which a new driver takes up.
     */
    @Test
    void shouldRecordTheImagesSkippedInTheAuditAndTheState(@TempDir Path run) throws Exception {
        RunDriver.StepDone r0 = done(0, 7, 0, "", "");
        RunDriver.StepDone r1 = done(1, 7, 2, "", "");
        JsonNode l = JSON.readTree(RunStore.auditLine(
                3,
                7,
                2,
                List.of(
                        new RunDriver.StepDone(
                                1,
                                7,
                                0,
                                2.5,
                                r0.lossNames(),
                                r0.lossValues(),
                                r0.positions(),
                                r0.indices(),
                                r0.keys(),
                                new long[] {9, 40},
                                0.1),
                        new RunDriver.StepDone(
                                1,
                                7,
                                1,
                                2.5,
                                r1.lossNames(),
                                r1.lossValues(),
                                r1.positions(),
                                r1.indices(),
                                r1.keys(),
                                new long[] {3, 9},
                                0.1))));
        assertEquals("[3,9,40]", l.get("skipped").toString());

        Path ckpt = checkpoint(run, 2);
        RunStore store = new RunStore(run, IO);
        await(store.commit(
                ckpt, new RunStore.State("checkpointing", 1, 0, 2, ckpt.toString(), 8, "", new long[] {3, 9, 40})));
        assertArrayEquals(
                new long[] {3, 9, 40},
                await(new RunStore(run, IO).restore(null)).skippedImages());
        await(store.save(new RunStore.State("reforming", 2, 1, 2, ckpt.toString(), 8, "")));
        assertArrayEquals(
                new long[0], await(new RunStore(run, IO).restore(null)).skippedImages());
    }

    @Test
    void shouldRestoreTheCommittedCheckpointAndTheRecordedEnd(@TempDir Path run) throws Exception {
        Path ckpt = checkpoint(run, 4);
        RunStore store = new RunStore(run, IO);
        await(store.commit(ckpt, new RunStore.State("checkpointing", 3, 1, 4, ckpt.toString(), 24, "")));
        RunStore.Restored r = await(new RunStore(run, IO).restore(null));
        assertEquals(4, r.committedStep());
        assertEquals(ckpt.toString(), r.checkpoint());
        assertEquals(3, r.generation());
        assertEquals(1, r.restarts());
        assertEquals("", r.endPhase(), "a run in progress");
        assertEquals(
                24,
                JSON.readTree(run.resolve(RunStore.STATE_FILE).toFile())
                        .get("sampler_position")
                        .asLong());

        await(store.save(new RunStore.State("finished", 3, 1, 4, ckpt.toString(), 24, "finished 4 steps")));
        RunStore.Restored ended = await(new RunStore(run, IO).restore(null));
        assertEquals("finished", ended.endPhase());
        assertEquals("finished 4 steps", ended.message());
    }

    @Test
    void shouldRefuseACheckpointThatDoesNotVerify(@TempDir Path run) throws Exception {
        Path ckpt = checkpoint(run, 2);
        Files.writeString(ckpt.resolve("shard-00000-of-00001.safetensors"), "changed");
        RunStore store = new RunStore(run, IO);
        ExecutionException e = assertThrows(
                ExecutionException.class,
                () -> await(store.commit(ckpt, new RunStore.State("checkpointing", 1, 0, 2, ckpt.toString(), 0, ""))));
        assertInstanceOf(RunStore.Unverified.class, RunStore.cause(e.getCause()));
        assertTrue(Files.notExists(run.resolve(RunStore.STATE_FILE)), "nothing recorded");
        await(store.save(new RunStore.State("reforming", 1, 1, -1, "", 0, ""))); // a failure does not stop the store
    }

    /**
     * Issue #17 item 3: the coordinator verifies before it resumes; a newest checkpoint that does not verify (a
     * damaged shard, a directory without checksums) is passed over, with a warning naming it, for the newest that
     * does.
     */
    @Test
    void shouldResumeFromTheNewestCheckpointThatVerifies(@TempDir Path run) throws Exception {
        Path two = checkpoint(run, 2);
        Path four = checkpoint(run, 4);
        Files.writeString(four.resolve("shard-00000-of-00001.safetensors"), "changed");
        Path six = Files.createDirectories(run.resolve("checkpoints/step-00000006")); // lost its files
        RunStore.Restored r = await(new RunStore(run, IO).restore(null));
        assertEquals(2, r.committedStep());
        assertEquals(two.toString(), r.checkpoint());
        assertEquals(2, r.warnings().size(), r.warnings().toString());
        assertTrue(
                r.warnings().get(0).contains(six + " does not verify"),
                r.warnings().get(0));
        assertTrue(
                r.warnings().get(1).contains(four + " does not verify")
                        && r.warnings().get(1).contains("checksum mismatch"),
                r.warnings().get(1));
    }

    @Test
    void shouldRefuseToResumeWhenNoCheckpointVerifiesNamingEach(@TempDir Path run) throws Exception {
        Path two = checkpoint(run, 2);
        Path four = checkpoint(run, 4);
        Files.writeString(two.resolve("centers.safetensors"), "changed");
        Files.delete(four.resolve(AtomicDirectory.SUMS));
        ExecutionException e = assertThrows(ExecutionException.class, () -> await(new RunStore(run, IO).restore(null)));
        String m = RunStore.cause(e.getCause()).getMessage();
        assertTrue(m.contains("none of the 2 checkpoint(s) verifies"), m);
        assertTrue(m.contains(two + "/centers.safetensors: checksum mismatch"), m);
        assertTrue(m.contains(four + ": incomplete checkpoint"), m);
    }

    @Test
    void shouldNameTheRunDirectoryItCannotRead(@TempDir Path tmp) throws Exception {
        Path file = tmp.resolve("not-a-dir");
        Files.writeString(file, "x");
        ExecutionException e = assertThrows(
                ExecutionException.class, () -> await(new RunStore(file.resolve("run"), IO).restore(null)));
        assertTrue(RunStore.cause(e.getCause()).getMessage().contains("cannot read the run state"), e.getMessage());
    }

    @Test
    void shouldRewindTheMetricsOfStepsAWorldComputesAgain(@TempDir Path run) throws Exception {
        Files.createDirectories(run);
        StringBuilder lines = new StringBuilder();
        for (int s = 1; s <= 5; s++) {
            lines.append("{\"step\":").append(s).append(",\"total_loss\":1.0}\n");
        }
        lines.append("{\"step\":6,\"tot"); // torn by a crash
        Files.writeString(run.resolve(RunStore.METRICS_FILE), lines);
        await(new RunStore(run, IO).rewindMetrics(3));
        List<String> kept = Files.readAllLines(run.resolve(RunStore.METRICS_FILE));
        assertEquals(3, kept.size(), kept.toString());
        assertTrue(kept.get(2).startsWith("{\"step\":3,"), kept.toString());
    }

    /** A committed sharded checkpoint of {@code step} steps, as rank 0 commits it (manifest and checksums). */
    static Path checkpoint(Path run, long step) throws Exception {
        Path tmp = run.resolve("checkpoints").resolve(".tmp-" + step);
        Files.createDirectories(tmp);
        Files.writeString(
                tmp.resolve("manifest.json"),
                "{\"format\": \"dinoj-sharded-1\", \"step\": " + step
                        + ", \"shards\": [{\"file\": \"shard-00000-of-00001.safetensors\"}]}");
        Files.writeString(tmp.resolve("shard-00000-of-00001.safetensors"), "tensor bytes");
        Files.writeString(tmp.resolve("centers.safetensors"), "center bytes");
        Files.writeString(tmp.resolve("config.conf"), "train.epochs = 1");
        Path fin = run.resolve("checkpoints").resolve(String.format("step-%08d", step));
        AtomicDirectory.commit(tmp, fin);
        return fin;
    }
}
