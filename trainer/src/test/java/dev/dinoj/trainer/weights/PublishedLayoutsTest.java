package dev.dinoj.trainer.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.dinoj.testkit.PublishedBackbones;
import dev.dinoj.testkit.PublishedBackbones.Tensor;
import dev.dinoj.testkit.RandomArrays;
import dev.dinoj.trainer.model.BackboneOutput;
import dev.dinoj.trainer.model.FfnType;
import dev.dinoj.trainer.model.ModelInit;
import dev.dinoj.trainer.model.ParamSet;
import dev.dinoj.trainer.model.VisionTransformer;
import dev.dinoj.trainer.model.VitConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One backbone written in every published layout (dinov2 hub with and without dinoj's metadata, transformers and
 * timm with and without their {@code config.json}, transformers under a classifier's {@code dinov2.} prefix, a dinov2
 * training checkpoint's teacher with chunked block names) loads
 * with no configuration into the same architecture and computes the same features, bit for bit, as the original
 * model: at its own position grid and at another one (interpolation). The architectures cover MLP and SwiGLU, with
 * and without registers, with and without LayerScale.
 */
class PublishedLayoutsTest {

    /** Widths where embed-dim / 64 gives the heads, as in every released DINOv2 model. */
    static Stream<Arguments> layouts() {
        List<Arguments> out = new ArrayList<>();
        VitConfig mlp = arch(FfnType.MLP, 0, 1e-5);
        VitConfig swigluRegisters = arch(FfnType.SWIGLU, 4, 1e-5);
        VitConfig noLayerScale = arch(FfnType.MLP, 2, 0);
        for (VitConfig c : List.of(mlp, swigluRegisters, noLayerScale)) {
            for (String layout : List.of(
                    "dinoj-export",
                    "dinov2",
                    "transformers",
                    "transformers-rule",
                    "timm",
                    "timm-model-args",
                    "transformers-classifier",
                    "dinov2-training-checkpoint")) {
                if (!c.layerScale() && layout.startsWith("transformers")) {
                    continue; // transformers' Dinov2 always has LayerScale
                }
                out.add(Arguments.of(c, layout));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{1} {0}")
    @MethodSource("layouts")
    void loadsWithoutConfigAndComputesTheSameFeatures(VitConfig cfg, String layout, @TempDir Path tmp)
            throws Exception {
        Map<String, Tensor> hub = randomBackbone(cfg, 7);
        Path file = write(layout, hub, cfg, tmp);
        try (NDManager m = NDManager.newBaseManager();
                ParamSet p = params(hub, m);
                Backbones.Loaded loaded = Backbones.open(file, m)) {
            assertEquals(cfg, loaded.config(), "the architecture read from the " + layout + " file");
            VisionTransformer original = new VisionTransformer(cfg, p, "");
            for (int side : new int[] {cfg.imgSize(), 28}) {
                NDArray images = m.create(RandomArrays.uniform(2 * 3 * side * side, side), new Shape(2, 3, side, side));
                BackboneOutput want = original.forward(images, null, false, null);
                BackboneOutput got = loaded.model().forward(images, null, false, null);
                assertArrayEquals(want.clsToken().toFloatArray(), got.clsToken().toFloatArray(), layout + " cls");
                assertArrayEquals(
                        want.regTokens().toFloatArray(), got.regTokens().toFloatArray(), layout + " regs");
                assertArrayEquals(
                        want.patchTokens().toFloatArray(), got.patchTokens().toFloatArray(), layout + " patches");
            }
        }
    }

    @Test
    void layoutsAreDetectedFromTheNames(@TempDir Path tmp) throws Exception {
        VitConfig cfg = arch(FfnType.SWIGLU, 4, 1e-5);
        Map<String, Tensor> hub = randomBackbone(cfg, 1);
        assertEquals(
                WeightLayout.DINOV2,
                BackboneFile.inspect(write("dinov2", hub, cfg, tmp)).layout());
        assertEquals(
                WeightLayout.TRANSFORMERS,
                BackboneFile.inspect(write("transformers", hub, cfg, tmp)).layout());
        BackboneFile timm = BackboneFile.inspect(write("timm-model-args", hub, cfg, tmp));
        assertEquals(WeightLayout.TIMM, timm.layout());
        assertFalse(timm.hasMaskToken());
        assertTrue(timm.headsStated(), timm.headsFrom());
        assertFalse(BackboneFile.inspect(write("timm", hub, cfg, tmp)).headsStated());
        assertTrue(BackboneFile.inspect(write("timm", hub, cfg, tmp)).describe().contains("timm layout"));
    }

    /** Heads that embed-dim / 64 would get wrong come from transformers' and timm's config.json. */
    @Test
    void headsComeFromTheConfigJsonBesideTheFile(@TempDir Path tmp) throws Exception {
        VitConfig four =
                new VitConfig(28, 14, 64, 2, 4, 4.0, FfnType.MLP, 0, 1e-5, true, true, true, 0, true, 0.1, false);
        Map<String, Tensor> hub = randomBackbone(four, 3);
        Path hf = PublishedBackbones.writeTransformers(tmp.resolve("hf"), hub, 4);
        Path timm = PublishedBackbones.writeTimm(tmp.resolve("timm"), hub, 4);
        Path bare = PublishedBackbones.writeTimm(tmp.resolve("bare"), hub, 0);
        assertEquals(four, BackboneFile.inspect(hf).config());
        assertEquals(four, BackboneFile.inspect(timm).config());
        assertEquals(1, BackboneFile.inspect(bare).config().numHeads(), "no heads stated: embed-dim / 64");
        assertEquals(4, BackboneFile.inspect(bare, 4).config().numHeads(), "given");
    }

    static VitConfig arch(FfnType ffn, int registers, double layerScale) {
        // the released register models interpolate with offset 0 and antialiasing, the others with 0.1 and without
        return new VitConfig(
                42,
                14,
                128,
                2,
                2,
                4.0,
                ffn,
                registers,
                layerScale,
                true,
                true,
                true,
                0,
                true,
                registers > 0 ? 0 : 0.1,
                registers > 0);
    }

    /** Every tensor of the architecture, seeded random (LayerNorm weights around 1). */
    static Map<String, Tensor> randomBackbone(VitConfig cfg, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : ModelInit.backboneShapes(cfg).entrySet()) {
            int n = 1;
            for (long s : e.getValue()) {
                n *= (int) s;
            }
            float[] a = RandomArrays.uniform(r, n);
            boolean norm = e.getKey().endsWith("norm1.weight")
                    || e.getKey().endsWith("norm2.weight")
                    || e.getKey().equals("norm.weight");
            for (int i = 0; i < n; i++) {
                a[i] = norm ? 1 + 0.2f * a[i] : 0.3f * a[i];
            }
            out.put(e.getKey(), new Tensor(e.getValue(), a));
        }
        return out;
    }

    static ParamSet params(Map<String, Tensor> hub, NDManager m) {
        ParamSet p = new ParamSet(m);
        hub.forEach((k, t) -> p.put(k, t.data(), t.shape()));
        return p;
    }

    /** The backbone in {@code layout}, in a fresh folder under {@code tmp}. */
    static Path write(String layout, Map<String, Tensor> hub, VitConfig cfg, Path tmp) throws Exception {
        Path dir = Files.createTempDirectory(tmp, layout);
        switch (layout) {
            case "dinoj-export": {
                try (NDManager m = NDManager.newBaseManager();
                        ParamSet p = params(hub, m)) {
                    Path f = dir.resolve("backbone.safetensors");
                    Backbones.exportHubLayout(p, "", cfg, f);
                    return f;
                }
            }
            case "dinov2":
                return PublishedBackbones.writeDinov2(dir.resolve("dinov2_vits14_pretrain.safetensors"), hub);
            case "transformers":
                return PublishedBackbones.writeTransformers(dir, hub, cfg.numHeads());
            case "transformers-rule": // a model.safetensors without its config.json
                Path f = PublishedBackbones.writeTransformers(dir, hub, cfg.numHeads());
                Files.delete(dir.resolve("config.json"));
                return f;
            case "timm":
                return PublishedBackbones.writeTimm(dir, hub, 0);
            case "timm-model-args":
                return PublishedBackbones.writeTimm(dir, hub, cfg.numHeads());
            case "transformers-classifier": { // Dinov2ForImageClassification: dinov2.* and a classifier
                Map<String, Tensor> named = new LinkedHashMap<>();
                PublishedBackbones.transformers(hub).forEach((k, t) -> named.put("dinov2." + k, t));
                int d = cfg.embedDim();
                named.put("classifier.weight", new Tensor(new long[] {10, 2L * d}, new float[20 * d]));
                named.put("classifier.bias", new Tensor(new long[] {10}, new float[10]));
                Path c = dir.resolve("model.safetensors");
                PublishedBackbones.writeSafetensors(c, named);
                return c;
            }
            case "dinov2-training-checkpoint": { // student and teacher, blocks in chunks (block_chunks = depth)
                Map<String, Tensor> named = new LinkedHashMap<>();
                for (String model : List.of("student.backbone.", "teacher.backbone.")) {
                    hub.forEach((k, t) -> named.put(model + k.replaceAll("^blocks\\.(\\d+)\\.", "blocks.$1.$1."), t));
                }
                named.put("teacher.dino_head.last_layer.weight_g", new Tensor(new long[] {4, 1}, new float[4]));
                Path c = dir.resolve("teacher_checkpoint.safetensors");
                PublishedBackbones.writeSafetensors(c, named);
                return c;
            }
            default:
                throw new IllegalArgumentException(layout);
        }
    }
}
