package dev.dinoj.trainer.weights;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.dinoj.testkit.PublishedBackbones;
import dev.dinoj.testkit.PublishedBackbones.Tensor;
import dev.dinoj.trainer.model.FfnType;
import dev.dinoj.trainer.model.VitConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A weights file that is not a whole backbone of one architecture is refused with one line naming the file and the
 * tensor, in the file's own names, whatever its layout.
 */
class BackboneFileErrorsTest {

    private static final VitConfig CFG = PublishedLayoutsTest.arch(FfnType.MLP, 4, 1e-5);

    @TempDir
    Path tmp;

    @Test
    void missingTensorsAreNamedInTheFilesLayout() throws Exception {
        assertRefused(
                transformers(t -> without(t, "encoder.layer.1.attention.attention.value.bias")),
                "missing tensor encoder.layer.1.attention.attention.value.bias");
        assertRefused(
                transformers(t -> without(t, "encoder.layer.1.layer_scale1.lambda1")),
                "missing tensor encoder.layer.1.layer_scale1.lambda1");
        assertRefused(timm(t -> without(t, "blocks.1.norm2.weight")), "missing tensor blocks.1.norm2.weight");
        assertRefused(dinov2(t -> without(t, "blocks.1.ls1.gamma")), "missing tensor blocks.1.ls1.gamma");
        assertRefused(dinov2(t -> without(t, "norm.bias")), "missing tensor norm.bias");
    }

    @Test
    void unexpectedTensorsAreNamed() throws Exception {
        assertRefused(
                transformers(t -> with(t, "encoder.layer.0.attention.attention.relative_bias", 8)),
                "unexpected tensor encoder.layer.0.attention.attention.relative_bias");
        assertRefused(
                dinov2(t -> with(t, "blocks.0.attn.q_norm.weight", 64)),
                "unexpected tensor blocks.0.attn.q_norm.weight");
        assertRefused(timm(t -> with(t, "fc_norm.weight", 128)), "unexpected tensor fc_norm.weight");
    }

    @Test
    void shapesThatDoNotFitAreNamed() throws Exception {
        assertRefused(
                dinov2(t -> {
                    Tensor w = t.get("blocks.1.mlp.fc2.weight");
                    t.put("blocks.1.mlp.fc2.weight", new Tensor(new long[] {w.shape()[1], w.shape()[0]}, w.data()));
                    return t;
                }),
                "tensor blocks.1.mlp.fc2.weight has shape [512, 128]");
        assertRefused(
                dinov2(t -> {
                    t.put("pos_embed", new Tensor(new long[] {1, 8, 128}, new float[8 * 128]));
                    return t;
                }),
                "pos_embed has shape [1, 8, 128], not (1, 1 + grid², embed-dim) of a square grid");
        assertRefused(dinov2(t -> without(t, "cls_token")), "no cls_token tensor");
    }

    @Test
    void aFileThatIsNotSafetensorsIsNamed() throws Exception {
        Path f = tmp.resolve("notes.safetensors");
        Files.writeString(f, "these are not weights");
        IOException e = assertThrows(IOException.class, () -> BackboneFile.inspect(f));
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
        assertThrows(IOException.class, () -> BackboneFile.inspect(tmp.resolve("missing.safetensors")));
    }

    private void assertRefused(Path file, String what) throws Exception {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> {
            try (NDManager m = NDManager.newBaseManager();
                    Backbones.Loaded b = Backbones.open(file, m)) {
                b.params();
            }
        });
        assertTrue(e.getMessage().startsWith(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains(what), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
    }

    private Path dinov2(UnaryOperator<Map<String, Tensor>> edit) throws IOException {
        Path f = Files.createTempDirectory(tmp, "dinov2").resolve("backbone.safetensors");
        PublishedBackbones.writeDinov2(f, edit.apply(new LinkedHashMap<>(hub())));
        return f;
    }

    private Path transformers(UnaryOperator<Map<String, Tensor>> edit) throws IOException {
        Path f = Files.createTempDirectory(tmp, "hf").resolve("model.safetensors");
        PublishedBackbones.writeSafetensors(f, edit.apply(new LinkedHashMap<>(PublishedBackbones.transformers(hub()))));
        return f;
    }

    private Path timm(UnaryOperator<Map<String, Tensor>> edit) throws IOException {
        Path f = Files.createTempDirectory(tmp, "timm").resolve("model.safetensors");
        PublishedBackbones.writeSafetensors(f, edit.apply(new LinkedHashMap<>(PublishedBackbones.timm(hub()))));
        return f;
    }

    private static Map<String, Tensor> hub() {
        return PublishedLayoutsTest.randomBackbone(CFG, 5);
    }

    private static Map<String, Tensor> without(Map<String, Tensor> t, String name) {
        assertTrue(t.remove(name) != null, name);
        return t;
    }

    private static Map<String, Tensor> with(Map<String, Tensor> t, String name, int n) {
        t.put(name, new Tensor(new long[] {n}, new float[n]));
        return t;
    }
}
