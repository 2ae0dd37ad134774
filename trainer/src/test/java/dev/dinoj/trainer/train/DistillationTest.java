package dev.dinoj.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.dinoj.trainer.config.ConfigError;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.schedule.Schedules;
import dev.dinoj.trainer.weights.Backbones;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Distillation: frozen teacher, unmasked student without stochastic depth, iBOT on all patches, spare EMA. */
class DistillationTest {

    @TempDir
    static Path tmp;

    static Path teacherRun;
    static final TestData DATA = new TestData(64, 20);

    /** A 4-step fmnist-pico pretraining run serves as the teacher (its EMA teacher with heads). */
    @BeforeAll
    static void trainTeacher() throws Exception {
        teacherRun = tmp.resolve("teacher");
        new TrainingRun(
                        TrainSettings.load(
                                "fmnist-pico",
                                List.of("train.max-steps=4", "checkpoint.every-steps=4", "data.loader-threads=1")),
                        teacherRun,
                        false,
                        null)
                .withDataset(DATA)
                .run();
    }

    static TrainSettings student(String... extra) {
        List<String> sets = new ArrayList<>(List.of(
                "distill.teacher=\"" + teacherRun + "\"",
                "model.drop-path-rate=0",
                "train.seed=5",
                "train.max-steps=6",
                "checkpoint.every-steps=3",
                "data.loader-threads=1"));
        sets.addAll(List.of(extra));
        return TrainSettings.load("fmnist-pico", sets);
    }

    static StepBatch firstBatch(TrainSettings s, NDManager m) throws Exception {
        StepBatch b = TestBatches.first(s, m, DATA);
        assertTrue(b.nMaskedPatches() > 0, "the collated batch has masks (mask probability 1)");
        return b;
    }

    static SslMetaArch model(TrainSettings s, NDManager m) {
        DistillTeacher t = DistillTeacher.load(teacherRun, s.ssl(), s.distill(), m);
        return SslMetaArch.distillation(m, s.ssl(), s.seed(), t, null);
    }

    @Test
    void teacherStaysFrozenAndTheSpareEmaFollowsTheEmaFormula() throws Exception {
        TrainSettings s = student();
        try (NDManager m = NDManager.newBaseManager();
                SslMetaArch model = model(s, m)) {
            assertTrue(model.isDistillation());
            Map<String, NpyArray> teacher0 = model.teacher().toHost();
            Map<String, NpyArray> fromCheckpoint = dev.dinoj.trainer.checkpoint.Checkpoints.teacher(teacherRun);
            for (String k : teacher0.keySet()) {
                assertArrayEquals(
                        fromCheckpoint.get(k).floats(), teacher0.get(k).floats(), "teacher loaded: " + k);
            }
            Map<String, NpyArray> ema0 = model.ema().toHost();
            Map<String, NpyArray> student0 = model.student().toHost();
            for (String k : ema0.keySet()) {
                assertArrayEquals(
                        student0.get(k).floats(), ema0.get(k).floats(), "the spare EMA starts as the student: " + k);
            }
            Schedules.Values v0 = s.schedules().at(0);
            for (int step = 1; step <= 3; step++) { // lr(0) = 0: from step 1 the student moves
                Schedules.Values v = s.schedules().at(step);
                Map<String, NpyArray> emaBefore = model.ema().toHost();
                try (NDManager sm = m.newSubManager()) {
                    StepBatch b = DistillBatches.allPatches(
                            sm, firstBatch(s, sm), s.ssl().backbone().patchSize());
                    model.trainStep(step, b, v, StepRandom.forStep(s.seed(), step));
                }
                Map<String, NpyArray> st = model.student().toHost();
                Map<String, NpyArray> ema = model.ema().toHost();
                double mom = v.momentum();
                boolean differs = false;
                for (String k : ema.keySet()) {
                    float[] e0 = emaBefore.get(k).floats();
                    float[] sv = st.get(k).floats();
                    float[] e1 = ema.get(k).floats();
                    for (int i = 0; i < e1.length; i++) {
                        assertEquals(
                                mom * e0[i] + (1 - mom) * sv[i],
                                e1[i],
                                1e-6,
                                "EMA of " + k + "[" + i + "] step " + step);
                        differs |= Math.abs(e1[i] - sv[i]) > 1e-6;
                    }
                }
                assertTrue(differs, "the spare EMA is not the student");
            }
            assertTrue(v0.momentum() < 1, "momentum below 1 moves the EMA");
            Map<String, NpyArray> teacher1 = model.teacher().toHost();
            for (String k : teacher0.keySet()) {
                assertArrayEquals(teacher0.get(k).floats(), teacher1.get(k).floats(), "the teacher never moves: " + k);
            }
            assertFalse(
                    teacher0.keySet().equals(model.ema().toHost().keySet())
                            && java.util.Arrays.equals(
                                    teacher0.get("backbone.cls_token").floats(),
                                    model.ema()
                                            .toHost()
                                            .get("backbone.cls_token")
                                            .floats()),
                    "EMA and teacher are different models");
        }
    }

    @Test
    void studentSeesNoMasksAndIbotCoversEveryPatch() throws Exception {
        TrainSettings s = student();
        try (NDManager m = NDManager.newBaseManager();
                SslMetaArch model = model(s, m)) {
            StepBatch masked = firstBatch(s, m);
            StepBatch b =
                    DistillBatches.allPatches(m, masked, s.ssl().backbone().patchSize());
            assertNull(b.masks());
            int n = (16 / 4) * (16 / 4);
            assertEquals(2 * 8 * n, b.nMaskedPatches());
            long[] idx = b.maskIndices().toLongArray();
            for (int i = 0; i < idx.length; i++) {
                assertEquals(i, idx[i]);
            }
            for (float w : b.masksWeight().toFloatArray()) {
                assertEquals(1.0 / n, w, 1e-7);
            }
            model.student().zeroGradients();
            SslMetaArch.StepLosses l = model.forwardBackward(b, 0.04, StepRandom.forStep(0, 0));
            assertTrue(l.logged().containsKey("ibot_loss"), l.logged().toString());
            // the mask token only enters a masked forward: with no masks its gradient is exactly zero
            float[] g = model.student().get("backbone.mask_token").getGradient().toFloatArray();
            for (float x : g) {
                assertEquals(0f, x);
            }
            float[] gc = model.student().get("backbone.cls_token").getGradient().toFloatArray();
            double norm = 0;
            for (float x : gc) {
                norm += x * x;
            }
            assertTrue(norm > 0, "the rest of the student learns");
            // and with the collated masks, the mask token would have learned: the check above can fail
            model.student().zeroGradients();
            model.forwardBackward(masked, 0.04, StepRandom.forStep(0, 0));
            double mt = 0;
            for (float x :
                    model.student().get("backbone.mask_token").getGradient().toFloatArray()) {
                mt += x * x;
            }
            assertTrue(mt > 0, "a masked forward trains the mask token");
        }
    }

    @Test
    void studentDropPathMustBeZeroAndPrototypesMustMatch() {
        ConfigError e = assertThrows(
                ConfigError.class,
                () -> TrainSettings.load(
                        "fmnist-pico", List.of("distill.teacher=\"" + teacherRun + "\"", "model.drop-path-rate=0.1")));
        assertTrue(e.getMessage().contains("dinoj.model.drop-path-rate"), e.getMessage());
        assertEquals(0.0, student().ssl().backbone().dropPathRate());

        TrainSettings wrongK = student("dino.head-n-prototypes=128", "ibot.head-n-prototypes=128");
        try (NDManager m = NDManager.newBaseManager()) {
            ConfigError k =
                    assertThrows(ConfigError.class, () -> model(wrongK, m).close());
            assertTrue(k.getMessage().contains("dinoj.dino.head-n-prototypes = 128"), k.getMessage());
        }
    }

    @Test
    void hubLayoutTeacherNeedsExplicitRandomHeads(@TempDir Path dir) throws Exception {
        Path hub = dir.resolve("backbone.safetensors");
        try (NDManager m = NDManager.newBaseManager();
                Backbones.Loaded b = Backbones.teacherFromCheckpoint(teacherRun, m)) {
            Backbones.exportHubLayout(b.params(), "", b.config(), hub);
        }
        TrainSettings s = student("distill.teacher=\"" + hub + "\"");
        try (NDManager m = NDManager.newBaseManager()) {
            ConfigError e = assertThrows(ConfigError.class, () -> DistillTeacher.load(hub, s.ssl(), s.distill(), m));
            assertTrue(e.getMessage().contains("dinoj.distill.missing-teacher-heads"), e.getMessage());
            TrainSettings r = student("distill.teacher=\"" + hub + "\"", "distill.missing-teacher-heads=random");
            DistillTeacher t = DistillTeacher.load(hub, r.ssl(), r.distill(), m);
            assertTrue(t.randomHeads());
            assertEquals(64, t.backbone().embedDim());
            assertEquals(2, t.backbone().depth());
            assertEquals(4, t.backbone().numHeads(), "from the export's metadata");
            assertEquals(16, t.backbone().imgSize());
            Map<String, NpyArray> ck = dev.dinoj.trainer.checkpoint.Checkpoints.teacher(teacherRun);
            assertArrayEquals(
                    ck.get("backbone.blocks.1.mlp.fc2.weight").floats(),
                    t.params().get("backbone.blocks.1.mlp.fc2.weight").toFloatArray());
            t.params().close();
        }
    }

    @Test
    void officialLayoutWithoutMetadataIsInferredFromShapes(@TempDir Path dir) throws Exception {
        // an official hub state dict converted to safetensors carries no dinoj metadata
        Path hub = dir.resolve("official.safetensors");
        Map<String, NpyArray> backbone = new java.util.LinkedHashMap<>();
        dev.dinoj.trainer.checkpoint.Checkpoints.teacher(teacherRun).forEach((k, v) -> {
            if (k.startsWith("backbone.")) {
                backbone.put(k.substring("backbone.".length()), v);
            }
        });
        dev.dinoj.trainer.io.Safetensors.write(hub, backbone, Map.of("format", "pt"));
        TrainSettings r = student(
                "distill.teacher=\"" + hub + "\"",
                "distill.missing-teacher-heads=random",
                "distill.teacher-num-heads=4");
        try (NDManager m = NDManager.newBaseManager();
                Backbones.Loaded ref = Backbones.teacherFromCheckpoint(teacherRun, m)) {
            DistillTeacher t = DistillTeacher.load(hub, r.ssl(), r.distill(), m);
            assertEquals(ref.config().withImgSize(16), t.backbone().withImgSize(16));
            // the same features as the checkpoint's teacher: architecture (incl. the 4 heads) and weights are right
            StepBatch b = firstBatch(r, m);
            float[] want = ref.model()
                    .forward(b.globalCrops(), null, false, null)
                    .clsToken()
                    .toFloatArray();
            float[] got = new dev.dinoj.trainer.model.VisionTransformer(t.backbone(), t.params(), "backbone.")
                    .forward(b.globalCrops(), null, false, null)
                    .clsToken()
                    .toFloatArray();
            assertArrayEquals(want, got, 1e-6f);
            t.params().close();
        }
    }

    @Test
    void distillationRunResumesBitwiseAndItsCheckpointHoldsTheSpareEma(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("a");
        new TrainingRun(student(), a, false, null).withDataset(DATA).run();
        Path b = dir.resolve("b");
        new TrainingRun(student("train.max-steps=3"), b, false, null)
                .withDataset(DATA)
                .run();
        TrainLoop.Result r =
                new TrainingRun(student(), b, true, null).withDataset(DATA).run();
        assertEquals(3, r.startStep());
        for (String f : new String[] {"student.safetensors", "teacher.safetensors", "optimizer.safetensors"}) {
            assertArrayEquals(
                    Files.readAllBytes(a.resolve("checkpoints/step-00000006/" + f)),
                    Files.readAllBytes(b.resolve("checkpoints/step-00000006/" + f)),
                    f);
        }
        // the checkpoint's "teacher" is the student-sized spare EMA, so evaluation loads the distilled model
        try (NDManager m = NDManager.newBaseManager();
                Backbones.Loaded ev = Backbones.teacherFromCheckpoint(a, m)) {
            assertEquals(s(a).ssl().backbone(), ev.config());
        }
        assertTrue(Files.readString(a.resolve("distill-teacher.sha256")).contains(teacherRun.toString()));
        r.steps().forEach(st -> assertTrue(st.losses().containsKey("ibot_loss") && Double.isFinite(st.totalLoss())));
    }

    private static TrainSettings s(Path run) throws Exception {
        return TrainSettings.load(List.of(run.resolve("config.conf").toString()), List.of());
    }
}
