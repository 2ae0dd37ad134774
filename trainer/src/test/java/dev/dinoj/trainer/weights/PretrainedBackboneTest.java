package dev.dinoj.trainer.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.dinoj.testkit.PublishedBackbones;
import dev.dinoj.testkit.PublishedBackbones.Tensor;
import dev.dinoj.testkit.RandomArrays;
import dev.dinoj.trainer.config.ConfigError;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.model.VitConfig;
import dev.dinoj.trainer.train.SslMetaArch;
import dev.dinoj.trainer.train.TrainingRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code model.pretrained-weights}: the student and the teacher start from the file's backbone (any layout), its
 * position embedding resampled to the run's grid so that at the global crop size they compute the file's model's
 * features; the heads stay as freshly initialised; an architecture that differs stops the run with one line naming
 * the setting.
 */
class PretrainedBackboneTest {

    private static final List<String> PICO = List.of("model.layerscale=1.0e-5"); // transformers' files have LayerScale

    @TempDir
    Path tmp;

    /** fmnist-pico's backbone (ViT 64×2, 4 heads, patch 4) with position embeddings for 24 px instead of 16. */
    private static VitConfig fileArch(TrainSettings run) {
        return run.ssl().backbone().withImgSize(24);
    }

    @Test
    void studentAndTeacherStartFromTheFileAndTheHeadsStayFresh() throws Exception {
        TrainSettings plain = TrainSettings.load("fmnist-pico", PICO);
        Map<String, Tensor> hub = PublishedLayoutsTest.randomBackbone(fileArch(plain), 11);
        Path file = PublishedBackbones.writeTransformers(tmp.resolve("hf"), hub, 4);
        TrainSettings s =
                TrainSettings.load("fmnist-pico", List.of(PICO.get(0), "model.pretrained-weights=\"" + file + "\""));
        assertEquals(file, s.pretrainedWeights());
        assertNull(plain.pretrainedWeights());
        VitConfig run = s.ssl().backbone();
        try (NDManager m = NDManager.newBaseManager();
                SslMetaArch fresh = SslMetaArch.create(m, plain.ssl(), plain.seed());
                SslMetaArch model = TrainingRun.createModel(s, m);
                Backbones.Loaded original = Backbones.open(file, m)) {
            for (String name : model.student().names()) {
                float[] student = model.student().get(name).toFloatArray();
                assertArrayEquals(student, model.teacher().get(name).toFloatArray(), "teacher = student: " + name);
                String local = name.substring(name.indexOf('.') + 1);
                if (!name.startsWith(SslMetaArch.BACKBONE + ".")) {
                    assertArrayEquals(fresh.student().get(name).toFloatArray(), student, "fresh head: " + name);
                } else if (!local.equals("pos_embed")) {
                    assertArrayEquals(hub.get(local).data(), student, "from the file: " + name);
                }
            }
            assertEquals(
                    1 + run.gridSize() * run.gridSize(),
                    model.student().get("backbone.pos_embed").getShape().get(1));
            // at the global crop size the loaded backbone computes what the file's model computes there
            NDArray images = m.create(RandomArrays.uniform(2 * 3 * 16 * 16, 3), new Shape(2, 3, 16, 16));
            float[] want = original.model()
                    .forward(images, null, false, null)
                    .patchTokens()
                    .toFloatArray();
            float[] got = model.teacherBackbone()
                    .forward(images, null, false, null)
                    .patchTokens()
                    .toFloatArray();
            assertArrayEquals(want, got, 1e-4f);
        }
    }

    @Test
    void everyLayoutGivesTheSameStart() throws Exception {
        TrainSettings plain = TrainSettings.load("fmnist-pico", PICO);
        Map<String, Tensor> hub = PublishedLayoutsTest.randomBackbone(fileArch(plain), 12);
        Path[] files = {
            PublishedBackbones.writeTransformers(tmp.resolve("hf"), hub, 4),
            PublishedBackbones.writeTimm(tmp.resolve("timm"), hub, 4),
            PublishedBackbones.writeTimm(tmp.resolve("timm-bare"), hub, 0), // heads not stated: the run's
            PublishedBackbones.writeDinov2(tmp.resolve("dinov2.safetensors"), hub)
        };
        float[] first = null;
        for (Path f : files) {
            TrainSettings s =
                    TrainSettings.load("fmnist-pico", List.of(PICO.get(0), "model.pretrained-weights=\"" + f + "\""));
            try (NDManager m = NDManager.newBaseManager();
                    SslMetaArch model = TrainingRun.createModel(s, m)) {
                float[] pos = model.student().get("backbone.pos_embed").toFloatArray();
                float[] mask = model.student().get("backbone.mask_token").toFloatArray();
                assertEquals(f.toString().contains("timm"), allZero(mask), "timm files have no mask_token: " + f);
                if (first == null) {
                    first = pos;
                }
                assertArrayEquals(first, pos, f.toString());
            }
        }
    }

    @Test
    void anotherArchitectureStopsWithOneLineNamingTheSetting() throws Exception {
        TrainSettings pico = TrainSettings.load("fmnist-pico", PICO);
        VitConfig c = fileArch(pico);
        Map<String, Tensor> registers = PublishedLayoutsTest.randomBackbone(
                new VitConfig(24, 4, 64, 2, 4, 4.0, c.ffn(), 4, 1e-5, true, true, true, 0, true, 0, true), 1);
        assertRefused(
                PublishedBackbones.writeTimm(tmp.resolve("r"), registers, 0),
                PICO,
                "dinoj.model.num-register-tokens = 0, the file has 4");
        Map<String, Tensor> wider = PublishedLayoutsTest.randomBackbone(VitConfig.preset("vit_tiny", 24, 4), 1);
        assertRefused(
                PublishedBackbones.writeTransformers(tmp.resolve("w"), wider, 3),
                PICO,
                "dinoj.model.arch gives a ViT 64×2, the file holds a ViT 192×6 (dinoj.model.arch = vit_tiny)");
        Map<String, Tensor> hub = PublishedLayoutsTest.randomBackbone(c, 1);
        assertRefused(
                PublishedBackbones.writeTransformers(tmp.resolve("h"), hub, 2),
                PICO,
                "dinoj.model.arch has 4 attention heads, the file's model 2");
        assertRefused(
                PublishedBackbones.writeTransformers(tmp.resolve("ls"), hub, 4),
                List.of(),
                "dinoj.model.layerscale = 0.0 (off), the file has LayerScale");
        assertRefused(
                PublishedBackbones.writeTimm(tmp.resolve("p"), hub, 4),
                List.of(PICO.get(0), "model.patch-size=2"),
                "dinoj.model.patch-size = 2, the file's patch is 4");
    }

    private static void assertRefused(Path file, List<String> sets, String what) {
        List<String> all = new ArrayList<>(sets);
        all.add("model.pretrained-weights=\"" + file + "\"");
        TrainSettings s = TrainSettings.load("fmnist-pico", all);
        try (NDManager m = NDManager.newBaseManager()) {
            ConfigError e = assertThrows(
                    ConfigError.class, () -> TrainingRun.createModel(s, m).close());
            assertTrue(e.getMessage().startsWith("dinoj.model.pretrained-weights: " + file), e.getMessage());
            assertTrue(e.getMessage().contains(what), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }

    private static boolean allZero(float[] a) {
        for (float v : a) {
            if (v != 0) {
                return false;
            }
        }
        return true;
    }
}
