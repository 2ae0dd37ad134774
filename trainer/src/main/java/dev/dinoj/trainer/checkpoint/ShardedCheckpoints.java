package dev.dinoj.trainer.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.trainer.collective.Communicator;
import dev.dinoj.trainer.collective.Partition;
import dev.dinoj.trainer.collective.ReduceOp;
import dev.dinoj.trainer.config.ConfigError;
import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.io.Safetensors;
import dev.dinoj.trainer.optim.FlatLayout;
import dev.dinoj.trainer.optim.ShardedAdamW;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Checkpoints of sharded training state that load with any world size.
 *
 * <p>A checkpoint is the directory {@code RUN/checkpoints/step-NNNNNNNN} with
 * <ul>
 *   <li>{@code shard-RRRRR-of-NNNNN.safetensors}, one per rank: the rank's contiguous range of the flat student,
 *       teacher (the EMA of the student; in distillation the spare EMA, the frozen teacher is not checkpointed),
 *       {@code exp_avg} and {@code exp_avg_sq} vectors (1-D float32), its global {@code offset} and {@code length}
 *       in the metadata;</li>
 *   <li>{@code manifest.json}: step, sampler position, optimiser steps, seed, world size, generation, the flat layout
 *       (every parameter's name, shape and global offset) and the shard table (file, rank, offset, length);</li>
 *   <li>{@code centers.safetensors} (softmax centers and their pending update, replicated state), with Gram
 *       anchoring {@code gram_teacher.safetensors} (the Gram teacher snapshot, replicated), {@code config.conf} and
 *       {@code SHA256SUMS} over all files.</li>
 * </ul>
 * Every rank writes its shard into a temporary directory; when all have succeeded (an all-reduce of success flags)
 * rank 0 writes the rest, the checksums, and renames the directory into place, so a crash never leaves a
 * complete-looking partial checkpoint. Loading with M ranks reads the student and teacher from every shard and the
 * moments of the new shard from the shards that overlap it, through the global offsets.
 */
public final class ShardedCheckpoints {

    public static final String DIR = CheckpointLayout.DIR;
    public static final String MANIFEST = CheckpointLayout.SHARDED_MANIFEST;
    private static final String FORMAT = "dinoj-sharded-1";
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a checkpoint records besides tensors. */
    public record State(
            long step, long samplerPosition, long optimizerSteps, long seed, String config, int worldSize) {}

    private ShardedCheckpoints() {}

    /**
     * Collective: every rank of the trainer's world calls it with the same arguments after the same step.
     *
     * @param state step (completed steps), sampler position, seed and config; optimizer steps and world size are
     *              taken from the trainer
     * @return the committed checkpoint directory
     */
    public static Path save(Path runDir, ShardedTrainState trainer, State state, int keep) {
        Communicator comm = trainer.communicator();
        int rank = comm.rank();
        int n = comm.size();
        Path root = runDir.resolve(DIR);
        Path fin = root.resolve(CheckpointLayout.name(state.step()));
        Path tmp = root.resolve(".tmp-" + CheckpointLayout.name(state.step()) + "-g"
                + comm.world().generation());
        if (rank == 0) {
            try {
                AtomicDirectory.deleteTree(tmp);
                Files.createDirectories(tmp);
            } catch (IOException e) {
                throw new CheckpointException(tmp + ": cannot create (" + e.getMessage() + ")", e);
            }
        }
        comm.barrier();
        String error = null;
        try {
            writeShard(tmp.resolve(shardFile(rank, n)), trainer);
        } catch (IOException | RuntimeException e) {
            error = e.toString();
        }
        double[] ok = {error == null ? 1 : 0};
        comm.allReduce(ok, ReduceOp.SUM);
        if (ok[0] < n) {
            if (rank == 0) {
                AtomicDirectory.deleteQuietly(tmp);
            }
            throw new CheckpointException(fin + ": " + (int) (n - ok[0]) + " of " + n + " ranks could not write their "
                    + "shard" + (error != null ? " (this rank: " + error + ")" : "") + "; nothing was committed");
        }
        String commitError = null;
        if (rank == 0) {
            try {
                commit(root, tmp, fin, trainer, state, keep);
            } catch (IOException | RuntimeException e) {
                commitError = e.toString();
                AtomicDirectory.deleteQuietly(tmp);
            }
        }
        double[] committed = {rank == 0 && commitError == null ? 1 : 0};
        comm.allReduce(committed, ReduceOp.SUM);
        if (committed[0] < 1) {
            throw new CheckpointException(fin + ": rank 0 could not commit the checkpoint"
                    + (commitError != null ? " (" + commitError + ")" : "") + "; check free space and permissions of "
                    + runDir);
        }
        return fin;
    }

    private static void writeShard(Path file, ShardedTrainState trainer) throws IOException {
        ShardedAdamW opt = trainer.optimizer();
        FlatLayout layout = trainer.layout();
        int lo = opt.lo();
        int hi = opt.hi();
        long[] shape = {hi - lo};
        Map<String, NpyArray> t = new LinkedHashMap<>();
        t.put(
                "student",
                NpyArray.ofFloats(
                        "student", shape, layout.readRange(trainer.model().student(), lo, hi)));
        t.put(
                "teacher",
                NpyArray.ofFloats(
                        "teacher", shape, layout.readRange(trainer.model().ema(), lo, hi)));
        t.put("exp_avg", NpyArray.ofFloats("exp_avg", shape, opt.expAvgHost()));
        t.put("exp_avg_sq", NpyArray.ofFloats("exp_avg_sq", shape, opt.expAvgSqHost()));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        meta.put("offset", Integer.toString(lo));
        meta.put("length", Integer.toString(hi - lo));
        meta.put("total", Integer.toString(layout.total()));
        meta.put("rank", Integer.toString(trainer.communicator().rank()));
        meta.put("world_size", Integer.toString(trainer.communicator().size()));
        Safetensors.write(file, t, meta);
        fsync(file);
    }

    private static void commit(Path root, Path tmp, Path fin, ShardedTrainState trainer, State state, int keep)
            throws IOException {
        TrainState model = trainer.model();
        CenterFiles.write(tmp.resolve(CenterFiles.FILE), model);
        fsync(tmp.resolve(CenterFiles.FILE));
        GramState gram = model.gram();
        if (gram != null && gram.teacher() != null && gram.initialized()) { // replicated: rank 0's copy is everyone's
            Path f = tmp.resolve(CheckpointLayout.GRAM_TEACHER);
            Safetensors.write(f, gram.teacher().toHost(), Map.of("format", "pt"));
            fsync(f);
        }
        AtomicDirectory.writeSynced(tmp.resolve("config.conf"), state.config().getBytes(StandardCharsets.UTF_8));

        FlatLayout layout = trainer.layout();
        Partition shards = trainer.shards();
        int n = trainer.communicator().size();
        ObjectNode m = JSON.createObjectNode();
        m.put("format", FORMAT);
        m.put("step", state.step());
        m.put("sampler_position", state.samplerPosition());
        m.put("optimizer_steps", trainer.optimizer().stepCount());
        m.put("seed", state.seed());
        m.put("world_size", n);
        m.put("generation", trainer.communicator().world().generation());
        m.put("total_elements", layout.total());
        if (model.distillTeacherSha256() != null) {
            m.put("distill_teacher_sha256", model.distillTeacherSha256());
        }
        ArrayNode params = m.putArray("params");
        for (int i = 0; i < layout.count(); i++) {
            ObjectNode p = params.addObject();
            p.put("name", layout.name(i));
            ArrayNode s = p.putArray("shape");
            for (long d : layout.shape(i)) {
                s.add(d);
            }
            p.put("offset", layout.offset(i));
        }
        ArrayNode sh = m.putArray("shards");
        for (int r = 0; r < n; r++) {
            ObjectNode s = sh.addObject();
            s.put("file", shardFile(r, n));
            s.put("rank", r);
            s.put("offset", shards.offset(r));
            s.put("length", shards.length(r));
        }
        AtomicDirectory.writeSynced(
                tmp.resolve(MANIFEST), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(m));

        AtomicDirectory.commit(tmp, fin);
        CheckpointLayout.keepNewest(list(root.getParent()), fin, keep);
    }

    /**
     * Collective over the trainer's world (any size): restores student, teacher, this rank's moments, the optimiser
     * step count and the centers from a checkpoint written by any number of ranks.
     *
     * @param checkpoint a {@code step-N} directory, or a run directory (its newest sharded checkpoint)
     */
    public static State load(Path checkpoint, ShardedTrainState trainer) {
        Path dir = resolve(checkpoint);
        verify(dir);
        return restore(dir, trainer);
    }

    /** A checkpoint restored by {@link #loadNewestVerified}: its directory and what it records. */
    public record Loaded(Path dir, State state) {}

    /**
     * What {@code --resume} does on every rank (collective like {@link #load}): restores the
     * {@link #newestVerified newest checkpoint that verifies}, each newer one reported to {@code warn}.
     *
     * @return empty when the run has no checkpoint
     * @throws CheckpointException naming every checkpoint when none verifies
     */
    public static Optional<Loaded> loadNewestVerified(Path runDir, ShardedTrainState trainer, Consumer<String> warn) {
        return newestVerified(runDir, warn).map(dir -> new Loaded(dir, restore(dir, trainer)));
    }

    /**
     * The newest checkpoint of a run whose files all verify (what a resume continues from, the cluster coordinator's
     * included): each newer one that does not (a {@code step-N} directory without its manifest too) is skipped and
     * reported to {@code warn}, naming it and why.
     *
     * @return empty when the run has no checkpoint
     * @throws CheckpointException naming every checkpoint when none verifies
     */
    public static Optional<Path> newestVerified(Path runDir, Consumer<String> warn) {
        return CheckpointLayout.newestVerified(
                CheckpointLayout.stepDirectories(runDir, Files::isDirectory), ShardedCheckpoints::verify, warn);
    }

    /** Restores a verified checkpoint (collective over the trainer's world). */
    private static State restore(Path dir, ShardedTrainState trainer) {
        FlatLayout layout = trainer.layout();
        try {
            JsonNode m = JSON.readTree(dir.resolve(MANIFEST).toFile());
            if (!FORMAT.equals(m.path("format").asText())) {
                throw new CheckpointException(dir + ": not a " + FORMAT + " checkpoint");
            }
            List<String> names = new ArrayList<>();
            List<long[]> shapes = new ArrayList<>();
            for (JsonNode p : m.get("params")) {
                names.add(p.get("name").asText());
                long[] s = new long[p.get("shape").size()];
                for (int i = 0; i < s.length; i++) {
                    s[i] = p.get("shape").get(i).asLong();
                }
                shapes.add(s);
            }
            layout.requireSame(names, shapes, dir.toString());
            String recorded = m.path("distill_teacher_sha256").asText(null);
            String current = trainer.model().distillTeacherSha256();
            if (current != null && recorded != null && !recorded.equals(current)) {
                throw new ConfigError("dinoj.distill.teacher: its weights (SHA-256 " + current + ") differ from those "
                        + dir + " was distilled from (" + recorded + "); give the run's teacher, or start a new run");
            }
            if ((current == null) != (recorded == null)) {
                throw new ConfigError(
                        "dinoj.distill.teacher: " + dir
                                + (current == null
                                        ? " is a distillation checkpoint; resume it with its teacher (dinoj distill / distill.teacher)"
                                        : " is a pretraining checkpoint, not a distillation run's; distil into a new run directory"));
            }
            int total = layout.total();
            if (m.get("total_elements").asInt() != total) {
                throw new CheckpointException(
                        dir + ": " + m.get("total_elements").asInt() + " elements, the model has " + total);
            }
            float[] student = new float[total];
            float[] teacher = new float[total];
            ShardedAdamW opt = trainer.optimizer();
            int lo = opt.lo();
            int hi = opt.hi();
            float[] expAvg = new float[hi - lo];
            float[] expAvgSq = new float[hi - lo];
            int covered = 0;
            for (JsonNode s : m.get("shards")) {
                Path f = dir.resolve(s.get("file").asText());
                int off = s.get("offset").asInt();
                int len = s.get("length").asInt();
                Safetensors.Contents c = Safetensors.read(f);
                if (Integer.parseInt(c.metadata().get("offset")) != off
                        || Integer.parseInt(c.metadata().get("length")) != len) {
                    throw new CheckpointException(f + ": offset/length in the file differ from the manifest");
                }
                System.arraycopy(floats(c, "student", len, f), 0, student, off, len);
                System.arraycopy(floats(c, "teacher", len, f), 0, teacher, off, len);
                int from = Math.max(lo, off);
                int to = Math.min(hi, off + len);
                if (to > from) {
                    System.arraycopy(floats(c, "exp_avg", len, f), from - off, expAvg, from - lo, to - from);
                    System.arraycopy(floats(c, "exp_avg_sq", len, f), from - off, expAvgSq, from - lo, to - from);
                }
                covered += len;
            }
            if (covered != total) {
                throw new CheckpointException(dir + ": shards cover " + covered + " of " + total + " elements");
            }
            layout.writeFull(student, trainer.model().student());
            layout.writeFull(teacher, trainer.model().ema());
            trainer.refreshFromStudent();
            long optimizerSteps = m.get("optimizer_steps").asLong();
            opt.restore(expAvg, expAvgSq, optimizerSteps);
            CenterFiles.restore(dir.resolve(CenterFiles.FILE), trainer.model());
            GramState gram = trainer.model().gram();
            if (gram != null && gram.teacher() != null) {
                Path g = dir.resolve(CheckpointLayout.GRAM_TEACHER);
                if (Files.isRegularFile(g)) {
                    gram.restore(Safetensors.read(g).tensors(), g.toString());
                } else {
                    gram.initializeMissing(
                            m.get("step").asLong(), trainer.model().ema());
                }
            }
            return new State(
                    m.get("step").asLong(),
                    m.get("sampler_position").asLong(),
                    optimizerSteps,
                    m.get("seed").asLong(),
                    Files.readString(dir.resolve("config.conf")),
                    m.get("world_size").asInt());
        } catch (ConfigError e) {
            throw e;
        } catch (IOException | IllegalArgumentException e) {
            throw new CheckpointException(dir + ": cannot be loaded: " + e.getMessage(), e);
        }
    }

    private static float[] floats(Safetensors.Contents c, String key, int len, Path f) {
        NpyArray a = c.tensors().get(key);
        if (a == null || a.numel() != len) {
            throw new CheckpointException(f + ": tensor " + key + " missing or not of " + len + " elements");
        }
        return a.asFloats();
    }

    /**
     * The teacher parameters of a sharded checkpoint under their names (checksums verified), assembled from all
     * shards: what evaluation and export read, without a model or a world.
     */
    public static Map<String, NpyArray> teacherTensors(Path checkpoint) {
        Path dir = resolve(checkpoint);
        verify(dir);
        try {
            JsonNode m = JSON.readTree(dir.resolve(MANIFEST).toFile());
            int total = m.get("total_elements").asInt();
            float[] teacher = new float[total];
            for (JsonNode s : m.get("shards")) {
                Path f = dir.resolve(s.get("file").asText());
                int off = s.get("offset").asInt();
                int len = s.get("length").asInt();
                System.arraycopy(floats(Safetensors.read(f), "teacher", len, f), 0, teacher, off, len);
            }
            Map<String, NpyArray> out = new LinkedHashMap<>();
            for (JsonNode p : m.get("params")) {
                String name = p.get("name").asText();
                long[] shape = new long[p.get("shape").size()];
                long numel = 1;
                for (int i = 0; i < shape.length; i++) {
                    shape[i] = p.get("shape").get(i).asLong();
                    numel *= shape[i];
                }
                int off = p.get("offset").asInt();
                float[] v = Arrays.copyOfRange(teacher, off, off + (int) numel);
                out.put(name, NpyArray.ofFloats(name, shape, v));
            }
            return out;
        } catch (IOException | RuntimeException e) {
            throw new CheckpointException(dir + ": cannot read the teacher: " + e.getMessage(), e);
        }
    }

    /** The checkpoint manifest of a checkpoint (to rebuild the model and world before {@link #load}). */
    public static JsonNode manifest(Path checkpoint) {
        Path dir = resolve(checkpoint);
        try {
            return JSON.readTree(dir.resolve(MANIFEST).toFile());
        } catch (IOException e) {
            throw new CheckpointException(dir + ": not a sharded dinoj checkpoint (" + e.getMessage() + ")", e);
        }
    }

    /** Sharded checkpoint directories of a run, oldest first. */
    public static List<Path> list(Path runDir) {
        return CheckpointLayout.stepDirectories(runDir, p -> Files.isRegularFile(p.resolve(MANIFEST)));
    }

    public static Optional<Path> latest(Path runDir) {
        List<Path> all = list(runDir);
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    /** A step directory as given, or the newest sharded checkpoint of a run directory. */
    public static Path resolve(Path checkpoint) {
        if (Files.isRegularFile(checkpoint.resolve(MANIFEST))) {
            return checkpoint;
        }
        return latest(checkpoint)
                .orElseThrow(() -> new CheckpointException(checkpoint + ": neither a sharded checkpoint (no " + MANIFEST
                        + ") nor a run directory with checkpoints/step-*"));
    }

    /** Checks every file against {@code SHA256SUMS}. */
    public static void verify(Path dir) {
        AtomicDirectory.verifyComplete(dir, Set.of(MANIFEST, CenterFiles.FILE, "config.conf"));
        Set<String> shards = new HashSet<>();
        try {
            for (JsonNode s : JSON.readTree(dir.resolve(MANIFEST).toFile()).path("shards")) {
                shards.add(s.path("file").asText(""));
            }
        } catch (IOException e) {
            throw new CheckpointException(dir.resolve(MANIFEST) + ": cannot be read: " + e.getMessage(), e);
        }
        AtomicDirectory.verify(dir, shards); // every shard the manifest names is listed and matches
    }

    static String shardFile(int rank, int n) {
        return String.format("shard-%05d-of-%05d.safetensors", rank, n);
    }

    private static void fsync(Path f) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
    }
}
