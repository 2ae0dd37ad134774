package dev.dinoj.trainer.weights;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.testkit.PublishedBackbones;
import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.io.Npz;
import dev.dinoj.trainer.io.Safetensors;
import dev.dinoj.trainer.model.BackboneOutput;
import dev.dinoj.trainer.model.VitConfig;
import dev.dinoj.trainer.verify.ReferenceVerifier;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Imports official DINOv2 weights (the fixture's teacher after step 1, written in the hub layout, and as transformers
 * and timm publish them) and reproduces the official teacher forward; exporting them again gives the same file
 * contents.
 */
class BackbonesImportExportTest {

    @ParameterizedTest
    @ValueSource(strings = {"a", "b"})
    void importsOfficialWeightsAndReproducesTheirForward(String variant, @TempDir Path tmp) throws Exception {
        Path dir = Path.of(getClass()
                        .getResource("/fixtures/dinov2-step/" + variant + "/manifest.json")
                        .toURI())
                .getParent();
        VitConfig cfg = ReferenceVerifier.configFrom(
                        new ObjectMapper().readTree(dir.resolve("manifest.json").toFile()))
                .backbone();
        Map<String, NpyArray> hub = new LinkedHashMap<>();
        Npz.read(dir.resolve("teacher_step1.npz")).forEach((k, v) -> {
            if (k.startsWith("backbone.")) {
                String name = k.substring("backbone.".length());
                hub.put(name, NpyArray.ofFloats(name, v.shape(), v.asFloats()));
            }
        });
        Path official = tmp.resolve("official.safetensors");
        Safetensors.write(official, hub, Map.of("format", "pt"));
        Map<String, NpyArray> ref = Npz.read(dir.resolve("teacher_forward.npz"));
        try (NDManager m = NDManager.newBaseManager();
                Backbones.Loaded b = Backbones.fromSafetensors(official, cfg, m)) {
            for (int size : new int[] {16, 24}) {
                NpyArray in = ref.get("input_" + size);
                NDArray x = m.create(in.asFloats(), new Shape(in.shape()));
                BackboneOutput out = b.model().forward(x, null, false, null);
                assertClose(
                        ref.get("x_norm_clstoken_" + size).asFloats(),
                        out.clsToken().toFloatArray());
                assertClose(
                        ref.get("x_norm_patchtokens_" + size).asFloats(),
                        out.patchTokens().toFloatArray());
                assertClose(
                        ref.get("x_prenorm_" + size).asFloats(), out.prenorm().toFloatArray());
            }
            Path exported = tmp.resolve("exported.safetensors");
            Backbones.exportHubLayout(b.params(), "", cfg, exported);
            Safetensors.Contents back = Safetensors.read(exported);
            assertEquals(hub.keySet(), back.tensors().keySet(), "export keeps the official names and order");
            for (String k : hub.keySet()) {
                assertArrayEquals(hub.get(k).shape(), back.tensors().get(k).shape(), k);
                assertArrayEquals(hub.get(k).asFloats(), back.tensors().get(k).asFloats(), k);
            }
            assertEquals(Integer.toString(cfg.embedDim()), back.metadata().get("embed_dim"));
        }
    }

    /**
     * The same official weights as transformers and timm publish them (with their config.json, which gives the 4 and
     * 3 heads) load with no configuration and reproduce the official forward. Variant b has registers: without
     * metadata the released register models' interpolation (offset 0, antialiased) is assumed, not the fixture's, so
     * it is compared at its own grid only.
     */
    @ParameterizedTest
    @ValueSource(strings = {"a", "b"})
    void officialWeightsInTheTransformersAndTimmLayoutsReproduceTheirForward(String variant, @TempDir Path tmp)
            throws Exception {
        Path dir = Path.of(getClass()
                        .getResource("/fixtures/dinov2-step/" + variant + "/manifest.json")
                        .toURI())
                .getParent();
        VitConfig cfg = ReferenceVerifier.configFrom(
                        new ObjectMapper().readTree(dir.resolve("manifest.json").toFile()))
                .backbone();
        Map<String, PublishedBackbones.Tensor> hub = new LinkedHashMap<>();
        Npz.read(dir.resolve("teacher_step1.npz")).forEach((k, v) -> {
            if (k.startsWith("backbone.")) {
                hub.put(k.substring("backbone.".length()), new PublishedBackbones.Tensor(v.shape(), v.asFloats()));
            }
        });
        Map<String, NpyArray> ref = Npz.read(dir.resolve("teacher_forward.npz"));
        List<Path> files = List.of(
                PublishedBackbones.writeTransformers(tmp.resolve("hf"), hub, cfg.numHeads()),
                PublishedBackbones.writeTimm(tmp.resolve("timm"), hub, cfg.numHeads()));
        for (Path file : files) {
            try (NDManager m = NDManager.newBaseManager();
                    Backbones.Loaded b = Backbones.open(file, m)) {
                assertEquals(cfg.numHeads(), b.config().numHeads());
                assertEquals(cfg.ffnHiddenDim(), b.config().ffnHiddenDim());
                for (int size : cfg.numRegisterTokens() > 0 ? new int[] {16} : new int[] {16, 24}) {
                    NpyArray in = ref.get("input_" + size);
                    BackboneOutput out =
                            b.model().forward(m.create(in.asFloats(), new Shape(in.shape())), null, false, null);
                    assertClose(
                            ref.get("x_norm_clstoken_" + size).asFloats(),
                            out.clsToken().toFloatArray());
                    assertClose(
                            ref.get("x_norm_patchtokens_" + size).asFloats(),
                            out.patchTokens().toFloatArray());
                }
            }
        }
    }

    private static void assertClose(float[] want, float[] got) {
        assertEquals(want.length, got.length);
        double max = 0;
        for (int i = 0; i < want.length; i++) {
            max = Math.max(max, Math.abs(want[i] - got[i]));
        }
        assertTrue(max <= 1e-4, "max |Δ| " + max);
    }
}
