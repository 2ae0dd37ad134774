package dev.dinoj.trainer.train.sharded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.dinoj.trainer.collective.CollectiveSettings;
import dev.dinoj.trainer.collective.Communicator;
import dev.dinoj.trainer.collective.Partition;
import dev.dinoj.trainer.collective.WireFormat;
import dev.dinoj.trainer.collective.World;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.optim.FlatLayout;
import dev.dinoj.trainer.optim.HostStaging;
import dev.dinoj.trainer.train.SslMetaArch;
import dev.dinoj.trainer.train.StepBatch;
import dev.dinoj.trainer.train.StepRandom;
import dev.dinoj.trainer.train.TrainingRun;
import java.nio.file.Path;
import java.util.Map;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The sharded step in one JVM (a world of one): its optimiser and clipping against the single-process step. Ranks that
 * train must be processes: DJL allows one gradient collector per JVM at a time.
 */
class ShardedStepTest {

    static ShardedFixture.Run train(TrainSettings s, Communicator comm, int steps) {
        return train(s, comm, steps, false);
    }

    static ShardedFixture.Run train(TrainSettings s, Communicator comm, int steps, boolean overlap) {
        RankBatches rb = ShardedFixture.batches(s, comm.size());
        try (NDManager manager = NDManager.newBaseManager();
                SslMetaArch model = TrainingRun.createModel(s, manager);
                ShardedTrainer t = new ShardedTrainer(model, comm, WireFormat.F32, overlap)) {
            java.util.List<Double> losses = new java.util.ArrayList<>();
            for (int step = 0; step < steps; step++) {
                try (NDManager m = manager.newSubManager()) {
                    losses.add(t.step(
                                    step,
                                    StepBatch.of(m, rb.batch(step, comm.rank())),
                                    s.schedules().at(step),
                                    StepRandom.forStep(s.seed(), step))
                            .totalLoss());
                }
            }
            // the overlapped path really ran: every bucket of every step was launched from inside the backward
            assertEquals(
                    overlap ? (long) steps * (s.ssl().backbone().depth() + 1) : 0, t.bucketsLaunchedDuringBackward());
            return new ShardedFixture.Run(model.student().toHost(), model.ema().toHost(), losses, java.util.List.of());
        }
    }

    @Test
    @Timeout(120)
    void oneRankMatchesTheSingleProcessStep() {
        TrainSettings s = ShardedFixture.settings();
        ShardedFixture.Run ref = ShardedFixture.reference(s, 1, 3);
        try (Communicator alone =
                Communicator.join(World.localIpc(1, "/unused", 1, 0), 0, CollectiveSettings.defaults())) {
            ShardedFixture.Run run = train(s, alone, 3);
            Map.Entry<String, Double> worst = ShardedFixture.worstRelative(run.student(), ref.student());
            assertTrue(worst.getValue() <= 1e-6, "sharded AdamW + clipping differ from AdamW + GradClip: " + worst);
            assertTrue(ShardedFixture.keyBiasMaxAbs(run.student(), ref.student()) <= 1e-6);
            assertTrue(
                    ShardedFixture.worstRelative(run.teacher(), ref.teacher()).getValue() <= 1e-6);
            for (int i = 0; i < 3; i++) {
                assertEquals(
                        ref.losses().get(i),
                        run.losses().get(i),
                        1e-6 * Math.abs(ref.losses().get(i)));
            }
        }
    }

    /**
     * The overlapped step's segmented backward (heads, then block by block, with detached block boundaries) gives
     * bitwise the gradients, hence the parameters, of one backward call: with and without crop packing, and with
     * drop path (the batch-subset trick above rate 0.1 included), in bf16, with the manual attention, with Gram anchoring (its loss on the final patch
     * tokens) and in distillation.
     */
    @ParameterizedTest
    @ValueSource(
            strings = {
                "train.crop-packing=true",
                "train.crop-packing=false",
                "model.drop-path-rate=0.3",
                "train.precision=bf16",
                "model.attention=manual",
                "gram",
                "distill"
            })
    @Timeout(180)
    void segmentedBackwardGivesBitwiseTheParametersOfOneBackward(String set, @TempDir Path tmp) throws Exception {
        TrainSettings s;
        if (set.equals("gram")) {
            s = ShardedFixture.settings(ShardedFixture.GRAM.toArray(new String[0]));
        } else if (set.equals("distill")) {
            ShardedFixture.writeTeacher(tmp, 2);
            s = ShardedFixture.settings(ShardedFixture.distill(tmp).toArray(new String[0]));
        } else {
            s = ShardedFixture.settings(set);
        }
        try (Communicator alone =
                Communicator.join(World.localIpc(1, "/unused", 1, 0), 0, CollectiveSettings.defaults())) {
            ShardedFixture.Run plain = train(s, alone, 3, false);
            ShardedFixture.Run overlapped = train(s, alone, 3, true);
            for (String k : plain.student().keySet()) {
                assertArrayEquals(
                        plain.student().get(k).asFloats(),
                        overlapped.student().get(k).asFloats(),
                        "student " + k);
                assertArrayEquals(
                        plain.teacher().get(k).asFloats(),
                        overlapped.teacher().get(k).asFloats(),
                        "teacher " + k);
            }
            assertEquals(plain.losses(), overlapped.losses());
        }
    }

    /** Buckets of the overlapped reduce-scatter: contiguous, in launch order from the end of the vector to its start. */
    @Test
    void overlapBucketsTileTheFlatVectorFromTheHeadsDownToTheEmbeddings() {
        TrainSettings s = ShardedFixture.settings();
        try (NDManager manager = NDManager.newBaseManager();
                SslMetaArch model = SslMetaArch.create(manager, s.ssl(), s.seed())) {
            FlatLayout layout = FlatLayout.of(model.student(), model.groups());
            int depth = s.ssl().backbone().depth();
            int[] first = OverlappedReduceScatter.firstParamOfSegments(layout, depth);
            assertEquals("backbone.norm.weight", layout.name(first[depth]));
            for (int b = 1; b < depth; b++) {
                assertTrue(layout.name(first[b]).startsWith("backbone.blocks." + b + "."), layout.name(first[b]));
            }
            Partition shards = layout.shards(3);
            try (HostStaging staging = new HostStaging(layout, manager);
                    Communicator alone =
                            Communicator.join(World.localIpc(1, "/unused", 1, 0), 0, CollectiveSettings.defaults());
                    OverlappedReduceScatter o = new OverlappedReduceScatter(
                            alone, layout, model.student(), staging, layout.shards(1), WireFormat.F32, depth)) {
                java.util.List<int[]> r = o.bucketRanges();
                assertEquals(depth + 1, r.size());
                assertEquals(layout.total(), r.get(0)[1]);
                assertEquals(0, r.get(depth)[0]);
                for (int j = 1; j < r.size(); j++) {
                    assertEquals(
                            r.get(j - 1)[0], r.get(j)[1], "bucket " + j + " ends where bucket " + (j - 1) + " starts");
                }
            }
            assertEquals(layout.total(), shards.total());
        }
    }

    @Test
    void flatLayoutRoundTripsParametersThroughTheDirectViews() {
        TrainSettings s = ShardedFixture.settings();
        try (NDManager manager = NDManager.newBaseManager();
                SslMetaArch model = SslMetaArch.create(manager, s.ssl(), s.seed())) {
            FlatLayout layout = FlatLayout.of(model.student(), model.groups());
            assertEquals(model.student().numel(), layout.total());
            HostStaging staging = new HostStaging(layout, manager);
            UnsafeBuffer flat = staging.unsafe();
            staging.readValues(model.student());
            staging.readValues(model.teacher()); // the teacher's values (a copy of the student's)
            for (int e = 0; e < layout.total(); e++) {
                flat.putFloat(e * 4, flat.getFloat(e * 4) + 1f);
            }
            staging.writeValues(model.student());
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
            float[] range = layout.readRange(model.student(), lo, hi);
            for (int e = lo; e < hi; e++) {
                assertEquals(flat.getFloat(e * 4), range[e - lo]);
            }
            staging.close();
        }
    }
}
