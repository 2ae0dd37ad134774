package dev.dinoj.trainer.collective.sharded;

import ai.djl.ndarray.NDManager;
import dev.dinoj.trainer.collective.CollectiveSettings;
import dev.dinoj.trainer.collective.Communicator;
import dev.dinoj.trainer.collective.WireFormat;
import dev.dinoj.trainer.collective.World;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.train.SslMetaArch;
import dev.dinoj.trainer.train.StepRandom;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The sharded step in one JVM (a world of one): its optimiser and clipping against the single-process step. Ranks that
 * train must be processes: DJL allows one gradient collector per JVM at a time.
 */
class ShardedStepTest {

    static ShardedFixture.Run train(TrainSettings s, Communicator comm, int steps) {
        RankBatches rb = ShardedFixture.batches(s, comm.size());
        try (NDManager manager = NDManager.newBaseManager();
             SslMetaArch model = SslMetaArch.create(manager, s.ssl(), s.seed())) {
            ShardedTrainer t = new ShardedTrainer(model, comm, WireFormat.F32);
            java.util.List<Double> losses = new java.util.ArrayList<>();
            for (int step = 0; step < steps; step++) {
                try (NDManager m = manager.newSubManager()) {
                    losses.add(t.step(step, RankBatches.toDevice(m, rb.batch(step, comm.rank())), s.schedules().at(step),
                            StepRandom.forStep(s.seed(), step)).totalLoss());
                }
            }
            return new ShardedFixture.Run(model.student().toHost(), model.teacher().toHost(), losses);
        }
    }

    @Test
    @Timeout(120)
    void oneRankMatchesTheSingleProcessStep() {
        TrainSettings s = ShardedFixture.settings();
        ShardedFixture.Run ref = ShardedFixture.reference(s, 1, 3);
        try (Communicator alone = Communicator.join(World.localIpc(1, "/unused", 1, 0), 0, CollectiveSettings.defaults())) {
            ShardedFixture.Run run = train(s, alone, 3);
            Map.Entry<String, Double> worst = ShardedFixture.worstRelative(run.student(), ref.student());
            assertTrue(worst.getValue() <= 1e-6, "sharded AdamW + clipping differ from AdamW + GradClip: " + worst);
            assertTrue(ShardedFixture.keyBiasMaxAbs(run.student(), ref.student()) <= 1e-6);
            assertTrue(ShardedFixture.worstRelative(run.teacher(), ref.teacher()).getValue() <= 1e-6);
            for (int i = 0; i < 3; i++) {
                assertEquals(ref.losses().get(i), run.losses().get(i), 1e-6 * Math.abs(ref.losses().get(i)));
            }
        }
    }

    @Test
    void flatLayoutRoundTripsParametersThroughTheDirectViews() {
        TrainSettings s = ShardedFixture.settings();
        try (NDManager manager = NDManager.newBaseManager();
             SslMetaArch model = SslMetaArch.create(manager, s.ssl(), s.seed())) {
            FlatLayout layout = FlatLayout.of(model.student(), model.groups());
            assertEquals(model.student().numel(), layout.total());
            UnsafeBuffer flat = new UnsafeBuffer(layout.allocate());
            layout.copyValues(model.student(), flat);
            layout.copyValues(model.teacher(), flat);           // the teacher's values (a copy of the student's)
            for (int e = 0; e < layout.total(); e++) {
                flat.putFloat(e * 4, flat.getFloat(e * 4) + 1f);
            }
            layout.writeValues(flat, model.student());
            Map<String, NpyArray> st = model.student().toHost();
            Map<String, NpyArray> te = model.teacher().toHost();
            for (String k : st.keySet()) {
                float[] a = st.get(k).asFloats();
                float[] b = te.get(k).asFloats();
                for (int i = 0; i < a.length; i++) {
                    assertEquals(b[i] + 1f, a[i], k);
                }
            }
            // a shard that cuts through parameters covers exactly its elements
            int lo = layout.offset(3) + 1;
            int hi = layout.offset(7) - 1;
            float[] range = ShardedCheckpoints.readRange(layout, model.student(), lo, hi);
            for (int e = lo; e < hi; e++) {
                assertEquals(flat.getFloat(e * 4), range[e - lo]);
            }
        }
    }
}
