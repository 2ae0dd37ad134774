package dev.dinoj.actors.train;

import akka.Done;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.actors.curate.CurateSpec;
import dev.dinoj.pipeline.curate.CurationRecord;
import dev.dinoj.trainer.checkpoint.CheckpointException;
import dev.dinoj.trainer.checkpoint.ShardedCheckpoints;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * The run driver's files in the run directory: {@code run-state.json} (phase, generation, restarts, the committed
 * checkpoint and sampler position, the images skipped over the pixel guard; written atomically) and {@code audit.jsonl} (one line per completed step). Every
 * read and write runs on the executor given (Akka's dispatcher for blocking I/O), one after the other in the order
 * asked, and answers with a {@link CompletionStage} that the driver pipes to itself: the actor thread never waits for
 * a file. Not thread-safe: its one owner, the driver, calls it from its actor thread.
 */
final class RunStore {

    static final String STATE_FILE = "run-state.json";
    static final String AUDIT_FILE = "audit.jsonl";
    static final String METRICS_FILE = "metrics.jsonl";
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * What {@code run-state.json} records; {@code skippedImages}: the dataset indices, ascending, of the images skipped
     * over the pixel guard in the run so far ({@code skipped_images}).
     */
    record State(
            String phase,
            int generation,
            int restarts,
            long committedStep,
            String checkpoint,
            long samplerPosition,
            String message,
            long[] skippedImages) {

        /** A state with no image skipped. */
        State(
                String phase,
                int generation,
                int restarts,
                long committedStep,
                String checkpoint,
                long samplerPosition,
                String message) {
            this(phase, generation, restarts, committedStep, checkpoint, samplerPosition, message, new long[0]);
        }
    }

    /**
     * What the run directory says about its run when a driver starts.
     *
     * @param committedStep step of the newest committed checkpoint (-1: none)
     * @param checkpoint    its directory ("" if none)
     * @param generation    the last generation recorded (0: none)
     * @param restarts      failures recorded
     * @param endPhase      finished, stopped or failed when the run has ended ("" otherwise)
     * @param message       the message recorded with the end ("" otherwise)
     * @param curated       whether the run's curation has finished (an earlier coordinator did it)
     * @param warnings      newer checkpoints that did not verify and were passed over, each named with why
     * @param skippedImages the images skipped over the pixel guard that {@code run-state.json} records (steps after its
     *                      checkpoint are computed again and skip theirs again)
     */
    record Restored(
            long committedStep,
            String checkpoint,
            int generation,
            int restarts,
            String endPhase,
            String message,
            boolean curated,
            List<String> warnings,
            long[] skippedImages) {

        /** What a run directory with no image skipped says. */
        Restored(
                long committedStep,
                String checkpoint,
                int generation,
                int restarts,
                String endPhase,
                String message,
                boolean curated,
                List<String> warnings) {
            this(committedStep, checkpoint, generation, restarts, endPhase, message, curated, warnings, new long[0]);
        }
    }

    /** A checkpoint whose files do not match their checksums (the run re-forms from the previous one). */
    static final class Unverified extends RuntimeException {
        Unverified(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private final Path runDir;
    private final Executor io;
    /** The last operation asked for; the next one runs after it. */
    private CompletableFuture<?> tail = CompletableFuture.completedFuture(null);

    RunStore(Path runDir, Executor io) {
        this.runDir = runDir;
        this.io = io;
    }

    /**
     * Reads the newest committed checkpoint that verifies (newer ones that do not are passed over, with a warning
     * each; none verifying fails naming them all), {@code run-state.json} and whether {@code curate} (may be null) is
     * done.
     */
    CompletionStage<Restored> restore(CurateSpec curate) {
        return then(() -> {
            try {
                Files.createDirectories(runDir);
                List<String> warnings = new ArrayList<>();
                Optional<Path> latest = ShardedCheckpoints.newestVerified(runDir, warnings::add);
                long committed = latest.isPresent()
                        ? ShardedCheckpoints.manifest(latest.get()).get("step").asLong()
                        : -1;
                String dir = latest.map(Path::toString).orElse("");
                boolean curated = curate != null && CurationRecord.finished(runDir, curate.source(), curate.out());
                Path f = runDir.resolve(STATE_FILE);
                if (!Files.exists(f)) {
                    return new Restored(committed, dir, 0, 0, "", "", curated, warnings);
                }
                JsonNode s = JSON.readTree(f.toFile());
                long[] skipped = new long[s.path("skipped_images").size()];
                for (int i = 0; i < skipped.length; i++) {
                    skipped[i] = s.path("skipped_images").get(i).asLong();
                }
                String phase = s.path("phase").asText("");
                boolean ended = phase.equals("finished") || phase.equals("stopped") || phase.equals("failed");
                return new Restored(
                        committed,
                        dir,
                        s.path("generation").asInt(0),
                        s.path("restarts").asInt(0),
                        ended ? phase : "",
                        ended ? s.path("message").asText("") : "",
                        curated,
                        warnings,
                        skipped);
            } catch (CheckpointException e) {
                throw e; // names the checkpoints and what is wrong with each
            } catch (IOException | RuntimeException e) {
                throw new IllegalStateException(
                        runDir + ": cannot read the run state (" + e.getMessage()
                                + "); check dinoj.actors.coordinator.run.dir",
                        e);
            }
        });
    }

    /** Writes {@code run-state.json} atomically. */
    CompletionStage<Done> save(State s) {
        return then(() -> write(s));
    }

    /**
     * Phase 2 of a checkpoint: verifies every file of {@code checkpoint} against its checksums (failing with
     * {@link Unverified}), then writes {@code s}, which names it, as {@code run-state.json}.
     */
    CompletionStage<Done> commit(Path checkpoint, State s) {
        return then(() -> {
            try {
                ShardedCheckpoints.verify(checkpoint);
            } catch (RuntimeException e) {
                throw new Unverified("checkpoint " + checkpoint + " does not verify: " + e.getMessage(), e);
            }
            return write(s);
        });
    }

    /** Appends the line of a completed step to {@code audit.jsonl} ({@code replies} in rank order). */
    CompletionStage<Done> audit(int generation, long step, int worldSize, List<RunDriver.StepDone> replies) {
        return then(() -> {
            Files.write(
                    runDir.resolve(AUDIT_FILE),
                    (auditLine(generation, step, worldSize, replies) + "\n").getBytes(StandardCharsets.UTF_8),
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
            return Done.getInstance();
        });
    }

    /**
     * Appends the line of step {@code step} to {@code metrics.jsonl}, in the single-JVM run's format (MetricsLog): the
     * step (1-based, as there), rank 0's losses and total, the schedule values, images/s of the world (the global
     * batch over the slowest rank's step time) and that time, so that {@code report} draws a cluster run's curves. A
     * failure to write is logged and does not stop the run.
     */
    CompletionStage<Done> metrics(long step, List<RunDriver.StepDone> replies, StepSchedule s, int batch) {
        return then(() -> {
            RunDriver.StepDone r0 = replies.get(0);
            double seconds = 0;
            for (RunDriver.StepDone r : replies) {
                seconds = Math.max(seconds, r.seconds());
            }
            ObjectNode o = JSON.createObjectNode();
            o.put("step", step + 1);
            for (int i = 0; i < r0.lossNames().length; i++) {
                o.put(r0.lossNames()[i], r0.lossValues()[i]);
            }
            o.put("total_loss", r0.totalLoss());
            o.put("lr", s.lr());
            o.put("wd", s.wd());
            o.put("momentum", s.momentum());
            o.put("teacher_temp", s.teacherTemp());
            o.put("last_layer_lr", s.lastLayerLr());
            o.put("images_per_s", seconds > 0 ? batch / seconds : 0);
            o.put("compute_s", seconds);
            o.put("world_size", replies.size());
            Files.write(
                    runDir.resolve(METRICS_FILE),
                    (JSON.writeValueAsString(o) + "\n").getBytes(StandardCharsets.UTF_8),
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
            return Done.getInstance();
        });
    }

    /**
     * Drops the {@code metrics.jsonl} lines of steps after {@code committed} (and a torn last line): a world that
     * resumes from the committed checkpoint computes those steps again.
     */
    CompletionStage<Done> rewindMetrics(long committed) {
        return then(() -> {
            Path f = runDir.resolve(METRICS_FILE);
            if (!Files.exists(f)) {
                return Done.getInstance();
            }
            List<String> keep = new ArrayList<>();
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                try {
                    if (!line.isBlank() && JSON.readTree(line).get("step").asLong() <= committed) {
                        keep.add(line);
                    }
                } catch (IOException | RuntimeException e) {
                    // a torn line: dropped
                }
            }
            Files.write(f, keep, StandardCharsets.UTF_8);
            return Done.getInstance();
        });
    }

    /**
     * Appends the run's failure to {@code audit.jsonl}: {@code {"generation", "step", "event": "failed", "cause",
     * "message"}} (no {@code positions}: readers of step lines skip it).
     */
    CompletionStage<Done> auditEnd(int generation, long step, String cause, String message) {
        return then(() -> {
            ObjectNode line = JSON.createObjectNode();
            line.put("generation", generation);
            line.put("step", step);
            line.put("event", "failed");
            line.put("cause", cause);
            line.put("message", message);
            Files.write(
                    runDir.resolve(AUDIT_FILE),
                    (JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8),
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
            return Done.getInstance();
        });
    }

    /**
     * One line of {@code audit.jsonl}: generation, step, world size, the (position, index) of every sample in rank
     * order, their object keys when any sample has one, the dataset indices of the images skipped over the pixel guard
     * in their place ({@code skipped}, ascending; only when any was) and rank 0's total loss.
     */
    static String auditLine(int generation, long step, int worldSize, List<RunDriver.StepDone> replies)
            throws IOException {
        ObjectNode line = JSON.createObjectNode();
        line.put("generation", generation);
        line.put("step", step);
        line.put("world_size", worldSize);
        ArrayNode pos = line.putArray("positions");
        ArrayNode idx = line.putArray("indices");
        boolean keyed = false;
        for (RunDriver.StepDone d : replies) {
            for (int i = 0; i < d.positions().length; i++) {
                pos.add(d.positions()[i]);
                idx.add(d.indices()[i]);
                keyed |= d.keys() != null && i < d.keys().length && !d.keys()[i].isEmpty();
            }
        }
        if (keyed) {
            ArrayNode keys = line.putArray("keys");
            for (RunDriver.StepDone d : replies) {
                for (int i = 0; i < d.positions().length; i++) {
                    keys.add(d.keys() != null && i < d.keys().length ? d.keys()[i] : "");
                }
            }
        }
        SortedSet<Long> skipped = new TreeSet<>();
        for (RunDriver.StepDone d : replies) {
            if (d.skipped() != null) {
                for (long i : d.skipped()) {
                    skipped.add(i);
                }
            }
        }
        if (!skipped.isEmpty()) {
            ArrayNode sk = line.putArray("skipped");
            skipped.forEach(sk::add);
        }
        line.put("loss", replies.get(0).totalLoss());
        return JSON.writeValueAsString(line);
    }

    /** The cause of a failed stage (without the CompletionException around it). */
    static Throwable cause(Throwable t) {
        return t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    private Done write(State s) throws IOException {
        ObjectNode n = JSON.createObjectNode();
        n.put("phase", s.phase());
        n.put("generation", s.generation());
        n.put("restarts", s.restarts());
        n.put("committed_step", s.committedStep());
        n.put("checkpoint", s.checkpoint());
        n.put("sampler_position", s.samplerPosition());
        n.put("message", s.message());
        ArrayNode skipped = n.putArray("skipped_images");
        for (long i : s.skippedImages()) {
            skipped.add(i);
        }
        Path f = runDir.resolve(STATE_FILE);
        Path tmp = f.resolveSibling(STATE_FILE + ".tmp");
        try {
            Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(n));
            Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new IOException(f + ": cannot write the run state (" + e.getMessage() + ")", e);
        }
        return Done.getInstance();
    }

    /** Runs {@code work} on the executor after everything asked before it (failed or not). */
    private <T> CompletionStage<T> then(Callable<T> work) {
        CompletableFuture<T> next = tail.handle((v, e) -> null)
                .thenApplyAsync(
                        v -> {
                            try {
                                return work.call();
                            } catch (RuntimeException e) {
                                throw e;
                            } catch (Exception e) {
                                throw new CompletionException(e);
                            }
                        },
                        io);
        tail = next;
        return next;
    }
}
