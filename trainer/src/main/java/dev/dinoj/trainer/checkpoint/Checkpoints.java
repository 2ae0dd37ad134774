package dev.dinoj.trainer.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.io.Safetensors;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Full training state on disk, atomically: a checkpoint is the directory {@code checkpoints/step-NNNNNNNN} holding
 * {@code student.safetensors}, {@code teacher.safetensors} (the EMA of the student: the teacher, or a distillation
 * run's spare EMA), {@code optimizer.safetensors} (AdamW moments),
 * {@code centers.safetensors} (softmax centers and their pending update), {@code state.json} (next step,
 * data-sampler position, optimiser step count, seed), {@code config.conf} (the resolved config) and, with Gram
 * anchoring, {@code gram_teacher.safetensors}, with
 * {@code SHA256SUMS} over all of them. It is written under a temporary name, flushed, and renamed into place, so a
 * crash never leaves a directory that looks complete but is not; loading verifies every checksum.
 */
public final class Checkpoints {

    public static final String DIR = CheckpointLayout.DIR;
    /** The Gram teacher snapshot (DINOv3 Gram anchoring), present only when it is used. */
    public static final String GRAM_TEACHER = CheckpointLayout.GRAM_TEACHER;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a checkpoint records besides tensors. */
    public record State(long step, long samplerPosition, long optimizerSteps, long seed, String config) {}

    private Checkpoints() {}

    /** Writes a checkpoint of {@code model} after {@code state.step()} steps, then prunes to the newest {@code keep}. */
    public static Path save(Path runDir, TrainState model, State state, int keep) {
        Path root = runDir.resolve(DIR);
        Path fin = root.resolve(CheckpointLayout.name(state.step()));
        Path tmp = root.resolve(".tmp-" + CheckpointLayout.name(state.step()) + "-" + UUID.randomUUID());
        try {
            Files.createDirectories(tmp);
            Safetensors.write(
                    tmp.resolve("student.safetensors"), model.student().toHost(), Map.of("format", "pt"));
            Safetensors.write(tmp.resolve("teacher.safetensors"), model.ema().toHost(), Map.of("format", "pt"));
            if (model.gram() != null
                    && model.gram().teacher() != null
                    && model.gram().initialized()) {
                Safetensors.write(
                        tmp.resolve(GRAM_TEACHER), model.gram().teacher().toHost(), Map.of("format", "pt"));
            }
            Safetensors.write(
                    tmp.resolve("optimizer.safetensors"), model.optimizer().stateHost(), Map.of());
            CenterFiles.write(tmp.resolve(CenterFiles.FILE), model);
            ObjectNode s = JSON.createObjectNode();
            s.put("step", state.step());
            s.put("sampler_position", state.samplerPosition());
            s.put("optimizer_steps", state.optimizerSteps());
            s.put("seed", state.seed());
            s.put("rng", "every random draw of step s derives from (seed, s) and of sample p from (seed, p)");
            AtomicDirectory.writeSynced(
                    tmp.resolve("state.json"),
                    JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(s));
            AtomicDirectory.writeSynced(
                    tmp.resolve("config.conf"), state.config().getBytes(StandardCharsets.UTF_8));
            AtomicDirectory.commit(tmp, fin);
        } catch (IOException e) {
            AtomicDirectory.deleteQuietly(tmp);
            throw new CheckpointException(
                    fin + ": could not write the checkpoint (" + e.getMessage()
                            + "); check free space and permissions of " + runDir,
                    e);
        }
        CheckpointLayout.keepNewest(list(runDir), fin, keep);
        return fin;
    }

    /** Checkpoint directories of a run, oldest first (temporary directories excluded). */
    public static List<Path> list(Path runDir) {
        return stepDirectories(runDir, Files::isDirectory);
    }

    /**
     * The {@code RUN/checkpoints/step-N} entries that {@code accept} takes, oldest first (single-process and sharded
     * checkpoints share the layout).
     */
    public static List<Path> stepDirectories(Path runDir, Predicate<Path> accept) {
        return CheckpointLayout.stepDirectories(runDir, accept);
    }

    /** The newest checkpoint of a run, if any. */
    public static Optional<Path> latest(Path runDir) {
        List<Path> all = list(runDir);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /**
     * Verifies every checksum, then restores parameters, optimiser moments and centers into {@code model}.
     *
     * @param checkpoint a {@code step-N} directory, or a run directory (its newest checkpoint)
     */
    public static State load(Path checkpoint, TrainState model) {
        Path dir = resolve(checkpoint);
        requireSingleProcess(dir);
        verify(dir);
        return restore(dir, model);
    }

    /** A checkpoint restored by {@link #loadNewestVerified}: its directory and what it records. */
    public record Loaded(Path dir, State state) {}

    /**
     * What {@code --resume} does: restores the newest checkpoint of {@code runDir} whose checksums verify into
     * {@code model}; each newer one that does not is skipped and reported to {@code warn}, naming it and why.
     *
     * @return empty when the run has no checkpoint
     * @throws CheckpointException naming every checkpoint when none verifies
     */
    public static Optional<Loaded> loadNewestVerified(Path runDir, TrainState model, Consumer<String> warn) {
        List<Path> all = list(runDir);
        if (!all.isEmpty()) {
            requireSingleProcess(all.get(all.size() - 1));
        }
        return CheckpointLayout.newestVerified(all, Checkpoints::verify, warn)
                .map(dir -> new Loaded(dir, restore(dir, model)));
    }

    private static void requireSingleProcess(Path dir) {
        if (isSharded(dir)) {
            throw new CheckpointException(dir + ": written by a sharded run (" + SHARDED_MANIFEST
                    + "); continue it with " + "--ranks (any number of ranks, e.g. dinoj train --ranks 2 --resume)");
        }
    }

    /** Restores a verified checkpoint into {@code model}. */
    private static State restore(Path dir, TrainState model) {
        try {
            JsonNode s = JSON.readTree(dir.resolve("state.json").toFile());
            String config = Files.readString(dir.resolve("config.conf"));
            model.student()
                    .load(Safetensors.read(dir.resolve("student.safetensors")).tensors(), dir + "/student.safetensors");
            model.ema()
                    .load(Safetensors.read(dir.resolve("teacher.safetensors")).tensors(), dir + "/teacher.safetensors");
            if (model.gram() != null
                    && model.gram().teacher() != null
                    && Files.isRegularFile(dir.resolve(GRAM_TEACHER))) {
                model.gram().restore(Safetensors.read(dir.resolve(GRAM_TEACHER)).tensors(), dir + "/" + GRAM_TEACHER);
            }
            model.optimizer()
                    .restore(
                            Safetensors.read(dir.resolve("optimizer.safetensors"))
                                    .tensors(),
                            s.get("optimizer_steps").asLong(),
                            dir + "/optimizer.safetensors");
            CenterFiles.restore(dir.resolve(CenterFiles.FILE), model);
            return new State(
                    s.get("step").asLong(),
                    s.get("sampler_position").asLong(),
                    s.get("optimizer_steps").asLong(),
                    s.get("seed").asLong(),
                    config);
        } catch (IOException | IllegalArgumentException e) {
            throw new CheckpointException(dir + ": cannot be loaded: " + e.getMessage(), e);
        }
    }

    /** Reads only the resolved config and state of a checkpoint (to rebuild the model before {@link #load}). */
    public static State peek(Path checkpoint) {
        Path dir = resolve(checkpoint);
        try {
            if (isSharded(dir)) {
                JsonNode m = JSON.readTree(dir.resolve(SHARDED_MANIFEST).toFile());
                return new State(
                        m.get("step").asLong(),
                        m.get("sampler_position").asLong(),
                        m.get("optimizer_steps").asLong(),
                        m.get("seed").asLong(),
                        Files.readString(dir.resolve("config.conf")));
            }
            JsonNode s = JSON.readTree(dir.resolve("state.json").toFile());
            return new State(
                    s.get("step").asLong(),
                    s.get("sampler_position").asLong(),
                    s.get("optimizer_steps").asLong(),
                    s.get("seed").asLong(),
                    Files.readString(dir.resolve("config.conf")));
        } catch (IOException e) {
            throw new CheckpointException(dir + ": not a dinoj checkpoint (" + e.getMessage() + ")", e);
        }
    }

    /**
     * The teacher parameters of a checkpoint, its checksum verified (only the teacher, state and config files are
     * read: a checkpoint used as a backbone or distillation teacher never reads the student or optimiser files).
     */
    public static Map<String, NpyArray> teacher(Path checkpoint) {
        Path dir = resolve(checkpoint);
        if (isSharded(dir)) {
            return ShardedCheckpoints.teacherTensors(dir);
        }
        AtomicDirectory.verify(dir, Set.of(TEACHER_FILE, "state.json", "config.conf"));
        try {
            return Safetensors.read(dir.resolve(TEACHER_FILE)).tensors();
        } catch (IOException e) {
            throw new CheckpointException(dir + ": " + e.getMessage(), e);
        }
    }

    /** The EMA teacher's file in a (single-process) checkpoint. */
    public static final String TEACHER_FILE = "teacher.safetensors";

    /**
     * A checkpoint teacher's identity: the SHA-256 of its {@code teacher.safetensors} (as {@code SHA256SUMS} records
     * it, so the file is not read again), or for a sharded checkpoint, whose teacher is spread over the shards, of its
     * {@code SHA256SUMS}, which covers every shard.
     */
    public static String teacherSha256(Path checkpoint) {
        Path dir = resolve(checkpoint);
        try {
            if (isSharded(dir)) {
                return AtomicDirectory.sha256(dir.resolve(AtomicDirectory.SUMS));
            }
            String recorded = AtomicDirectory.recordedSha256(dir, TEACHER_FILE);
            return recorded != null ? recorded : AtomicDirectory.sha256(dir.resolve(TEACHER_FILE));
        } catch (IOException e) {
            throw new CheckpointException(dir + ": cannot read the teacher's checksum: " + e.getMessage(), e);
        }
    }

    /** A step directory as given, or the newest checkpoint of a run directory. */
    public static Path resolve(Path checkpoint) {
        if (Files.isRegularFile(checkpoint.resolve("state.json")) || isSharded(checkpoint)) {
            return checkpoint;
        }
        return latest(checkpoint)
                .orElseThrow(() -> new CheckpointException(checkpoint
                        + ": neither a checkpoint (no state.json or " + SHARDED_MANIFEST
                        + ") nor a run directory with checkpoints/step-*"));
    }

    /** The manifest of a checkpoint written by a sharded (multi-rank) run. */
    public static final String SHARDED_MANIFEST = CheckpointLayout.SHARDED_MANIFEST;

    /** Whether a checkpoint directory was written by a sharded run ({@code --ranks N}): shards + manifest. */
    public static boolean isSharded(Path dir) {
        return CheckpointLayout.isSharded(dir);
    }

    /** Checks every file against {@code SHA256SUMS}; throws naming the first file that does not match. */
    public static void verify(Path dir) {
        AtomicDirectory.verifyComplete(dir, REQUIRED);
    }

    /** The files every single-process checkpoint has (the Gram teacher only with Gram anchoring). */
    static final Set<String> REQUIRED = Set.of(
            "student.safetensors",
            TEACHER_FILE,
            "optimizer.safetensors",
            CenterFiles.FILE,
            "state.json",
            "config.conf");
}
