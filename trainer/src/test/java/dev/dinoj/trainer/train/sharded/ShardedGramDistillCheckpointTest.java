package dev.dinoj.trainer.train.sharded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.dinoj.trainer.checkpoint.Checkpoints;
import dev.dinoj.trainer.checkpoint.ShardedCheckpoints;
import dev.dinoj.trainer.collective.CollectiveSettings;
import dev.dinoj.trainer.collective.Communicator;
import dev.dinoj.trainer.collective.WireFormat;
import dev.dinoj.trainer.collective.World;
import dev.dinoj.trainer.config.ConfigError;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.model.ParamSet;
import dev.dinoj.trainer.train.SslMetaArch;
import dev.dinoj.trainer.train.StepBatch;
import dev.dinoj.trainer.train.StepRandom;
import dev.dinoj.trainer.train.TrainingRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #7: what Gram anchoring and distillation add to the state of a sharded run survives its checkpoints — the
 * Gram teacher snapshot (a resumed run continues bitwise like the uninterrupted one) and, in distillation, the spare
 * EMA (what eval/export read) and the identity of the frozen teacher (a different teacher, or a pretraining model, is
 * refused with the key). A world of one in this JVM: the sharded step and checkpoint code, no transport.
 */
class ShardedGramDistillCheckpointTest {

    private static Communicator alone() {
        return Communicator.join(World.localIpc(1, "/unused", 1, 2), 0, CollectiveSettings.defaults());
    }

    /** Trains steps {@code [from, to)} with the sharded step; returns the total losses. */
    private static List<Double> train(ShardedTrainer t, TrainSettings s, NDManager manager, int from, int to) {
        RankBatches rb = ShardedFixture.batches(s, 1);
        List<Double> losses = new ArrayList<>();
        for (int step = from; step < to; step++) {
            try (NDManager m = manager.newSubManager()) {
                losses.add(t.step(
                                step,
                                StepBatch.of(m, rb.batch(step, 0)),
                                s.schedules().at(step),
                                StepRandom.forStep(s.seed(), step))
                        .totalLoss());
            }
        }
        return losses;
    }

    private static ShardedCheckpoints.State state(TrainSettings s, long step) {
        return new ShardedCheckpoints.State(step, step * s.batchSize(), 0, s.seed(), s.render(), 1);
    }

    private static void assertSameParams(ParamSet a, ParamSet b, String what) {
        Map<String, NpyArray> x = a.toHost();
        Map<String, NpyArray> y = b.toHost();
        assertEquals(x.keySet(), y.keySet(), what);
        for (String k : x.keySet()) {
            assertArrayEquals(x.get(k).asFloats(), y.get(k).asFloats(), what + " " + k);
        }
    }

    @Test
    @Timeout(300)
    void gramTeacherSurvivesAShardedCheckpointAndTheResumedRunContinuesBitwise(@TempDir Path run) {
        TrainSettings s = ShardedFixture.settings(ShardedFixture.GRAM.toArray(new String[0]));
        try (Communicator comm = alone();
                NDManager manager = NDManager.newBaseManager();
                SslMetaArch a = TrainingRun.createModel(s, manager);
                ShardedTrainer ta = new ShardedTrainer(a, comm, WireFormat.F32);
                SslMetaArch b = TrainingRun.createModel(s, manager);
                ShardedTrainer tb = new ShardedTrainer(b, comm, WireFormat.F32)) {
            train(ta, s, manager, 0, 3); // snapshot before step 1, refreshed after step 1
            assertTrue(a.gram().initialized());
            Path ckpt = ShardedCheckpoints.save(run, ta, state(s, 3), 2);
            assertTrue(Files.isRegularFile(ckpt.resolve(Checkpoints.GRAM_TEACHER)), "the Gram teacher is checkpointed");

            assertFalse(b.gram().initialized());
            assertEquals(3, ShardedCheckpoints.load(ckpt, tb).step());
            assertTrue(b.gram().initialized(), "the Gram teacher is restored");
            assertSameParams(a.gram().teacher(), b.gram().teacher(), "Gram teacher");
            assertSameParams(a.ema(), b.ema(), "EMA teacher");

            // steps 3 and 4 (the Gram teacher is refreshed after step 3): the same losses and parameters
            assertEquals(train(ta, s, manager, 3, 5), train(tb, s, manager, 3, 5));
            assertSameParams(a.student(), b.student(), "student after the resumed steps");
            assertSameParams(a.gram().teacher(), b.gram().teacher(), "Gram teacher after the refresh");
        }
    }

    @Test
    @Timeout(300)
    void distillationCheckpointKeepsTheSpareEmaAndRefusesAnotherTeacher(@TempDir Path tmp) throws Exception {
        Path t1 = Files.createDirectories(tmp.resolve("t1"));
        Path t2 = Files.createDirectories(tmp.resolve("t2"));
        ShardedFixture.writeTeacher(t1, 1);
        ShardedFixture.writeTeacher(t2, 2);
        TrainSettings s1 = ShardedFixture.settings(ShardedFixture.distill(t1).toArray(new String[0]));
        TrainSettings s2 = ShardedFixture.settings(ShardedFixture.distill(t2).toArray(new String[0]));
        Path run = tmp.resolve("run");
        Path ckpt;
        try (Communicator comm = alone();
                NDManager manager = NDManager.newBaseManager();
                SslMetaArch a = TrainingRun.createModel(s1, manager);
                ShardedTrainer ta = new ShardedTrainer(a, comm, WireFormat.F32)) {
            assertTrue(a.isDistillation());
            train(ta, s1, manager, 0, 2);
            ckpt = ShardedCheckpoints.save(run, ta, state(s1, 2), 2);
            Map<String, NpyArray> read = Checkpoints.teacher(ckpt); // what eval and export read
            Map<String, NpyArray> ema = a.ema().toHost();
            assertEquals(ema.keySet(), read.keySet());
            for (String k : ema.keySet()) {
                assertArrayEquals(ema.get(k).asFloats(), read.get(k).asFloats(), "spare EMA " + k);
            }
            try (SslMetaArch same = TrainingRun.createModel(s1, manager);
                    ShardedTrainer ts = new ShardedTrainer(same, comm, WireFormat.F32)) {
                ShardedCheckpoints.load(ckpt, ts);
                assertSameParams(a.ema(), same.ema(), "spare EMA after the load");
                assertSameParams(a.student(), same.student(), "student after the load");
            }
            try (SslMetaArch other = TrainingRun.createModel(s2, manager);
                    ShardedTrainer to = new ShardedTrainer(other, comm, WireFormat.F32)) {
                ConfigError e = assertThrows(ConfigError.class, () -> ShardedCheckpoints.load(ckpt, to));
                assertTrue(
                        e.getMessage().startsWith("dinoj.distill.teacher")
                                && e.getMessage().contains("differ"),
                        e.getMessage());
            }
            try (SslMetaArch plain =
                            TrainingRun.createModel(ShardedFixture.settings("model.drop-path-rate=0"), manager);
                    ShardedTrainer tp = new ShardedTrainer(plain, comm, WireFormat.F32)) {
                ConfigError e = assertThrows(ConfigError.class, () -> ShardedCheckpoints.load(ckpt, tp));
                assertTrue(e.getMessage().contains("is a distillation checkpoint"), e.getMessage());
            }
        }
    }
}
