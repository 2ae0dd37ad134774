package dev.dinoj.trainer.train.sharded;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.dinoj.trainer.checkpoint.ShardedCheckpoints;
import dev.dinoj.trainer.collective.CollectiveSettings;
import dev.dinoj.trainer.collective.Communicator;
import dev.dinoj.trainer.collective.TestWorlds;
import dev.dinoj.trainer.collective.WireFormat;
import dev.dinoj.trainer.collective.World;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.device.DeviceCopy;
import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.model.GradMode;
import dev.dinoj.trainer.model.ParamSet;
import dev.dinoj.trainer.optim.FlatLayout;
import dev.dinoj.trainer.optim.HostStaging;
import dev.dinoj.trainer.train.SslMetaArch;
import dev.dinoj.trainer.train.StepBatch;
import dev.dinoj.trainer.train.StepRandom;
import dev.dinoj.trainer.train.TrainingRun;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The sharded optimizer updates the live parameter tensors the model computes with, not a host copy of them.
 *
 * <p>On a GPU, {@code NDArray.toByteBuffer(true)} is a temporary host copy, so writing parameters back through it
 * updates nothing; on the CPU it is a view of the tensor, so the same code looks right. This test brings the GPU's
 * situation onto the CPU: every 2-D student weight of one model is re-laid out column-major (same values, same
 * {@link NDArray} instance, a non-contiguous tensor), for which {@code toByteBuffer(true)} is a copy too — checked
 * first. That model and an untouched twin then take the same sharded steps; the re-laid-out model's weights (read back
 * from the very instances the forward uses) must move as the twin's do. A write-back through host views leaves them at
 * their initial values.
 */
class ShardedDeviceUpdateTest {

    private static final int STEPS = 3;

    @ParameterizedTest(name = "{0} rank(s), overlap {1}")
    @CsvSource({"1, false", "1, true"})
    @Timeout(240)
    void theShardedStepUpdatesTheLiveParameterTensorsWhateverTheirLayout(int ranks, boolean overlap) throws Exception {
        // warm-up 0: the first steps move every weight (dinov2's linear warm-up starts at lr 0)
        TrainSettings s = ShardedFixture.settings("optim.warmup-epochs=0", "optim.freeze-last-layer-epochs=0");
        Result plain = run(s, ranks, overlap, false);
        Result relaid = run(s, ranks, overlap, true);
        assertTrue(relaid.relaidOut > 10, "weights re-laid out: " + relaid.relaidOut);
        int checked = 0;
        for (String name : relaid.relaidNames) {
            float[] init = plain.init.get(name).asFloats();
            float[] want = plain.after.get(name).asFloats();
            float[] got = relaid.after.get(name).asFloats();
            double moved = maxAbsDiff(want, init);
            assertTrue(moved > 1e-4, name + " moved only " + moved + " in the plain run");
            double off = maxAbsDiff(got, want);
            assertTrue(
                    off <= 1e-2 * moved,
                    name + ": the re-laid-out tensor is " + off + " away from the plain run's after " + STEPS
                            + " steps, which moved it by " + moved + " ("
                            + (maxAbsDiff(got, init) == 0
                                    ? "it was never updated: the step wrote a host copy"
                                    : "updated differently")
                            + ")");
            checked++;
        }
        assertEquals(relaid.relaidOut, checked);
        assertTrue(relaid.sameInstances, "the model's parameter NDArrays were replaced instead of updated in place");
    }

    /**
     * Several ranks write the all-gathered vector from host staging into the live tensors (ranks run in child JVMs in
     * the equivalence tests; DJL allows one gradient collector per JVM): the same re-laid-out weights must take the
     * values, read back from the same instances.
     */
    @Test
    void hostStagingWritesTheAllGatheredVectorIntoTheLiveTensors() {
        TrainSettings s = ShardedFixture.settings();
        try (NDManager manager = NDManager.newBaseManager();
                SslMetaArch model = TrainingRun.createModel(s, manager)) {
            GradMode.offOnThisThread();
            List<String> relaid = relayoutWeights(model.student());
            FlatLayout layout = FlatLayout.of(model.student(), model.groups());
            try (HostStaging staging = new HostStaging(layout, manager)) {
                staging.readValues(model.student());
                for (int e = 0; e < layout.total(); e++) {
                    staging.unsafe().putFloat(e << 2, e * 1e-3f);
                }
                staging.writeValues(model.student());
            }
            for (String name : relaid) {
                int i = layout.names().indexOf(name);
                float[] got = DeviceCopy.toHostFloats(model.student().get(name));
                for (int e = 0; e < got.length; e++) {
                    assertEquals((layout.offset(i) + e) * 1e-3f, got[e], name + "[" + e + "]");
                }
            }
        }
    }

    /**
     * A sharded checkpoint is device-agnostic: saved from one trainer, it loads onto the configured device
     * ({@code dinoj.device}; on this machine the CPU, the same code path as a GPU's) into a model whose weights are
     * laid out differently — student, teacher and moments land in the live tensors and the optimizer's device tensors.
     */
    @Test
    @Timeout(120)
    void aShardedCheckpointLoadsOntoTheConfiguredDeviceIntoTheLiveTensors(@TempDir Path run) throws Exception {
        TrainSettings s = ShardedFixture.settings("optim.warmup-epochs=0", "device=cpu");
        RankBatches rb = ShardedFixture.batches(s, 1);
        Map<String, NpyArray> savedStudent;
        Map<String, NpyArray> savedTeacher;
        float[] savedMoment;
        try (Communicator alone =
                        Communicator.join(World.localIpc(1, "/unused", 1, 0), 0, CollectiveSettings.defaults());
                NDManager manager = NDManager.newBaseManager(s.device().resolve(0));
                SslMetaArch model = TrainingRun.createModel(s, manager);
                ShardedTrainer t = new ShardedTrainer(model, alone, WireFormat.F32)) {
            for (int step = 0; step < 2; step++) {
                try (NDManager m = manager.newSubManager()) {
                    t.step(
                            step,
                            StepBatch.of(m, rb.batch(step, 0)),
                            s.schedules().at(step),
                            StepRandom.forStep(s.seed(), step));
                }
            }
            ShardedCheckpoints.save(run, t, new ShardedCheckpoints.State(2, 12, 2, s.seed(), s.render(), 1), 1);
            savedStudent = model.student().toHost();
            savedTeacher = model.ema().toHost();
            savedMoment = t.optimizer().expAvgHost();
        }
        try (Communicator alone =
                        Communicator.join(World.localIpc(1, "/unused", 1, 1), 0, CollectiveSettings.defaults());
                NDManager manager = NDManager.newBaseManager(s.device().resolve(0));
                SslMetaArch model = SslMetaArch.create(manager, s.ssl(), s.seed() + 7)) {
            GradMode.offOnThisThread();
            List<String> relaid = relayoutWeights(model.student());
            relaid.addAll(relayoutWeights(model.ema()));
            assertTrue(relaid.size() > 10);
            try (ShardedTrainer t = new ShardedTrainer(model, alone, WireFormat.F32)) {
                ShardedCheckpoints.State st =
                        ShardedCheckpoints.load(ShardedCheckpoints.latest(run).orElseThrow(), t);
                assertEquals(2, st.step());
                assertEquals(s.device().resolve(0), t.optimizer().device());
                for (String name : model.student().names()) {
                    NDArray a = model.student().get(name);
                    assertEquals(s.device().resolve(0), a.getDevice(), name);
                    assertArrayEquals(savedStudent.get(name).asFloats(), DeviceCopy.toHostFloats(a), "student " + name);
                    assertArrayEquals(
                            savedTeacher.get(name).asFloats(),
                            DeviceCopy.toHostFloats(model.ema().get(name)),
                            "teacher " + name);
                }
                assertArrayEquals(savedMoment, t.optimizer().expAvgHost());
                // the optimizer's master shard was refreshed from the loaded student
                float[] master = t.optimizer().parameters().toFloatArray();
                FlatLayout layout = t.layout();
                assertArrayEquals(layout.readRange(model.student(), 0, layout.total()), master);
            }
        }
    }

    private record Result(
            Map<String, NpyArray> init,
            Map<String, NpyArray> after,
            List<String> relaidNames,
            int relaidOut,
            boolean sameInstances) {}

    private static Result run(TrainSettings s, int ranks, boolean overlap, boolean relayout) throws Exception {
        try (TestWorlds w = new TestWorlds(ranks, TestWorlds.Transport.IPC, CollectiveSettings.defaults(), 0, true)) {
            return w.run(comm -> {
                        RankBatches rb = ShardedFixture.batches(s, comm.size());
                        try (NDManager manager = NDManager.newBaseManager();
                                SslMetaArch model = TrainingRun.createModel(s, manager)) {
                            GradMode.offOnThisThread();
                            List<String> relaid = relayout ? relayoutWeights(model.student()) : List.of();
                            Map<String, NpyArray> init = model.student().toHost();
                            Map<NDArray, String> instances = new IdentityHashMap<>();
                            model.student().asMap().forEach((k, v) -> instances.put(v, k));
                            try (ShardedTrainer t = new ShardedTrainer(model, comm, WireFormat.F32, overlap)) {
                                for (int step = 0; step < STEPS; step++) {
                                    try (NDManager m = manager.newSubManager()) {
                                        t.step(
                                                step,
                                                StepBatch.of(m, rb.batch(step, comm.rank())),
                                                s.schedules().at(step),
                                                StepRandom.forStep(s.seed(), step));
                                    }
                                }
                            }
                            boolean same = true;
                            for (Map.Entry<String, NDArray> e :
                                    model.student().asMap().entrySet()) {
                                same &= e.getKey().equals(instances.get(e.getValue()));
                            }
                            // read back from the instances the next forward uses
                            Map<String, NpyArray> after = new LinkedHashMap<>();
                            for (String name : model.student().names()) {
                                NDArray a = model.student().get(name);
                                after.put(
                                        name,
                                        NpyArray.ofFloats(name, a.getShape().getShape(), DeviceCopy.toHostFloats(a)));
                            }
                            return new Result(init, after, relaid, relaid.size(), same);
                        }
                    })
                    .get(0);
        }
    }

    /**
     * Gives every 2-D parameter a column-major layout in place (same instance, same values, gradient required), and
     * checks that a write through its {@code toByteBuffer(true)} "view" is lost — the GPU's behaviour.
     */
    private static List<String> relayoutWeights(ParamSet student) {
        List<String> out = new ArrayList<>();
        for (String name : student.names()) {
            NDArray p = student.get(name);
            if (p.getShape().dimension() != 2
                    || p.getShape().get(0) == 1
                    || p.getShape().get(1) == 1) {
                continue; // a size-1 dimension: any layout is contiguous
            }
            float[] values = p.toFloatArray();
            Shape shape = p.getShape();
            try (NDArray storage = p.getManager().zeros(new Shape(shape.get(1), shape.get(0)));
                    NDArray view = storage.transpose()) {
                NDArray columnMajor = view.duplicate(); // clone keeps the transposed strides: own storage, a leaf
                DeviceCopy.copy(p, columnMajor);
                p.intern(columnMajor);
            }
            p.setRequiresGradient(true);
            assertTrue(ai.djl.pytorch.jni.JniUtils.requiresGrad((ai.djl.pytorch.engine.PtNDArray) p), name);
            assertArrayEquals(values, p.toFloatArray(), name);
            ByteBuffer view = p.toByteBuffer(true);
            float before = view.getFloat(0);
            view.putFloat(0, before + 1f);
            assertNotEquals(before + 1f, p.toFloatArray()[0], name + ": toByteBuffer(true) should be a copy here");
            out.add(name);
        }
        return out;
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }
}
