package dev.dinoj.trainer.train.sharded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.dinoj.trainer.checkpoint.CheckpointException;
import dev.dinoj.trainer.checkpoint.ShardedCheckpoints;
import dev.dinoj.trainer.collective.CollectiveSettings;
import dev.dinoj.trainer.collective.Communicator;
import dev.dinoj.trainer.collective.WireFormat;
import dev.dinoj.trainer.collective.World;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.train.SslMetaArch;
import dev.dinoj.trainer.train.TrainLoop;
import dev.dinoj.trainer.train.TrainingRun;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #17 item 3 for {@code train --ranks N --resume}: a rank's resume passes over a newest checkpoint that does not
 * verify (a damaged shard, a lost manifest) to the newest that does, and rank 0 relays a warning naming each one
 * passed over; when none verifies, the error names them all. A world of one in this JVM: the rank's own resume code.
 */
class ShardedResumeFallbackTest {

    private static ShardedCheckpoints.State state(TrainSettings s, long step) {
        return new ShardedCheckpoints.State(step, step * s.batchSize(), 0, s.seed(), s.render(), 1);
    }

    /** What {@code work} prints (rank 0's lines to the launcher) and returns. */
    private static <T> T capture(StringBuilder out, Supplier<T> work) {
        PrintStream before = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            return work.get();
        } finally {
            System.setOut(before);
            out.append(buf.toString(StandardCharsets.UTF_8));
        }
    }

    @Test
    @Timeout(300)
    void resumePassesOverCheckpointsThatDoNotVerify(@TempDir Path run) throws Exception {
        TrainSettings s = ShardedFixture.settings();
        try (Communicator comm =
                        Communicator.join(World.localIpc(1, "/unused", 1, 2), 0, CollectiveSettings.defaults());
                NDManager manager = NDManager.newBaseManager();
                SslMetaArch model = TrainingRun.createModel(s, manager);
                ShardedTrainer trainer = new ShardedTrainer(model, comm, WireFormat.F32)) {
            Path two = ShardedCheckpoints.save(run, trainer, state(s, 2), 5);
            Path four = ShardedCheckpoints.save(run, trainer, state(s, 4), 5);
            Path six = ShardedCheckpoints.save(run, trainer, state(s, 6), 5);
            Files.write(four.resolve("shard-00000-of-00001.safetensors"), new byte[] {0}, StandardOpenOption.APPEND);
            Files.delete(six.resolve(ShardedCheckpoints.MANIFEST));

            RankStepper stepper = new RankStepper(s, trainer, manager, true);
            StringBuilder out = new StringBuilder();
            TrainLoop.Resumed resumed = capture(out, () -> stepper.resume(run));
            assertEquals(new TrainLoop.Resumed(2, 2L * s.batchSize()), resumed);
            assertEquals(two, stepper.latestCheckpoint(run), "the checkpoint resumed from, not the newest directory");
            String lines = out.toString();
            assertTrue(
                    lines.contains(RankStepper.WARN + "Checkpoint " + six + " does not verify")
                            && lines.contains(six + "/manifest.json: missing"),
                    lines);
            assertTrue(
                    lines.contains(RankStepper.WARN + "Checkpoint " + four + " does not verify")
                            && lines.contains("shard-00000-of-00001.safetensors: checksum mismatch"),
                    lines);
            assertTrue(lines.contains(RankStepper.LOG + "Resuming from " + two + " at step 2"), lines);

            Files.write(two.resolve("centers.safetensors"), new byte[] {0}, StandardOpenOption.APPEND);
            CheckpointException none = assertThrows(
                    CheckpointException.class,
                    () -> capture(new StringBuilder(), () -> new RankStepper(s, trainer, manager, true).resume(run)));
            for (Path p : new Path[] {two, four, six}) {
                assertTrue(none.getMessage().contains(p.toString()), none.getMessage());
            }
            assertTrue(none.getMessage().contains("none of the 3 checkpoint(s) verifies"), none.getMessage());
        }
    }
}
