package dev.dinoj.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.pipeline.curate.CuratedDataset;
import dev.dinoj.testkit.FashionMnist;
import dev.dinoj.testkit.PublishedBackbones;
import dev.dinoj.testkit.PublishedBackbones.Tensor;
import dev.dinoj.trainer.checkpoint.Checkpoints;
import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.io.Safetensors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One backbone — the trained pico teacher of {@link DistillCommandTest} — as Hugging Face transformers, timm and the
 * dinov2 hub (converted by {@code dinoj export --weights}) publish it, each given to every command with no
 * configuration: {@code eval} (the same k-NN result as the checkpoint itself), {@code curate --embedder vit:FILE} (the
 * same curated images), {@code distill --teacher FILE} and {@code train} with {@code model.pretrained-weights} (the same
 * trained parameters). A bad file stops each command with one line naming the file and the tensor, exit 2.
 */
class PretrainedWeightsCommandsTest {

    @TempDir
    static Path tmp;

    /** The same weights in the transformers, timm and dinov2 hub layouts. */
    static final Map<String, Path> LAYOUTS = new LinkedHashMap<>();

    static Path images;

    @BeforeAll
    static void writeLayouts() throws Exception {
        Path exported = tmp.resolve("exported.safetensors");
        CliTestSupport.Run export = CliTestSupport.main(
                "export", "--checkpoint", DistillCommandTest.teacher().toString(), "--out", exported.toString());
        assertEquals(0, export.code(), export::toString);
        Map<String, Tensor> hub = new LinkedHashMap<>();
        for (Map.Entry<String, NpyArray> e :
                Safetensors.read(exported).tensors().entrySet()) {
            hub.put(e.getKey(), new Tensor(e.getValue().shape(), e.getValue().asFloats()));
        }
        // transformers' Dinov2 always has LayerScale: a scale of 1 computes what the teacher (without it) computes
        float[] ones = new float[64];
        Arrays.fill(ones, 1f);
        for (int b = 0; b < 2; b++) {
            hub.put("blocks." + b + ".ls1.gamma", new Tensor(new long[] {64}, ones));
            hub.put("blocks." + b + ".ls2.gamma", new Tensor(new long[] {64}, ones));
        }
        // timm publishes no mask_token (a run starting from it gets a fresh one, zeros): the same in every layout here
        hub.put("mask_token", new Tensor(new long[] {1, 64}, new float[64]));
        LAYOUTS.put("transformers", PublishedBackbones.writeTransformers(tmp.resolve("hf"), hub, 4));
        LAYOUTS.put("timm", PublishedBackbones.writeTimm(tmp.resolve("timm"), hub, 4));
        Path dinov2 = Files.createDirectories(tmp.resolve("dinov2")).resolve("backbone.safetensors");
        CliTestSupport.Run convert = CliTestSupport.main(
                "export", "--weights", LAYOUTS.get("transformers").toString(), "--out", dinov2.toString());
        assertEquals(0, convert.code(), convert::toString);
        LAYOUTS.put("dinov2", dinov2);
        images = CliTestSupport.writeIdxImages(tmp.resolve("train/images-idx3-ubyte"), 48, 28, 3);
    }

    @Test
    void evalGivesTheCheckpointsResultForEveryLayout() throws Exception {
        FashionMnist.assumeInstalled();
        JsonNode want = knn("--checkpoint", DistillCommandTest.teacher().toString());
        assertTrue(want.get("20").get("top1").asDouble() > 0.3, want.toString());
        for (Map.Entry<String, Path> e : LAYOUTS.entrySet()) {
            assertEquals(want, knn("--weights", e.getValue().toString()), e.getKey());
        }
    }

    @Test
    void curateKeepsTheSameImagesForEveryLayout() throws Exception {
        Path pool = CliTestSupport.writeIdxImages(tmp.resolve("pool/pool-idx3-ubyte"), 120, 28, 11);
        Path queries = CliTestSupport.writeIdxImages(tmp.resolve("queries/q-idx3-ubyte"), 3, 28, 12);
        List<String> want =
                curate("vit:" + DistillCommandTest.teacher(), pool.getParent(), queries.getParent(), "checkpoint");
        assertFalse(want.isEmpty());
        for (Map.Entry<String, Path> e : LAYOUTS.entrySet()) {
            assertEquals(
                    want, curate("vit:" + e.getValue(), pool.getParent(), queries.getParent(), e.getKey()), e.getKey());
        }
    }

    @Test
    void distillFromEveryLayoutTrainsTheSameStudent() throws Exception {
        Map<String, NpyArray> first = null;
        for (Map.Entry<String, Path> e : LAYOUTS.entrySet()) {
            Path out = tmp.resolve("distill-" + e.getKey());
            CliTestSupport.Run r = CliTestSupport.main(
                    "distill",
                    "--teacher",
                    e.getValue().toString(),
                    "--student-preset",
                    "fmnist-pico",
                    "--set",
                    "model.arch=vit_nano",
                    "--set",
                    "distill.missing-teacher-heads=random",
                    "--set",
                    "train.max-steps=2",
                    "--set",
                    "data.loader-threads=1",
                    "--set",
                    CliTestSupport.idxDataset(images),
                    "--out",
                    out.toString());
            assertEquals(0, r.code(), r::toString);
            Map<String, NpyArray> student = lastCheckpoint(out, "student.safetensors");
            if (first == null) {
                first = student;
            }
            assertSameTensors(first, student, e.getKey());
        }
    }

    @Test
    void trainFromEveryLayoutTrainsTheSameModel() throws Exception {
        Map<String, NpyArray> first = null;
        for (Map.Entry<String, Path> e : LAYOUTS.entrySet()) {
            Map<String, NpyArray> teacher = lastCheckpoint(train(e.getKey(), e.getValue()), "teacher.safetensors");
            if (first == null) {
                first = teacher;
            }
            assertSameTensors(first, teacher, e.getKey());
        }
        Map<String, NpyArray> fresh = lastCheckpoint(train("fresh", null), "teacher.safetensors");
        assertNotEquals(
                Arrays.toString(first.get("backbone.blocks.1.mlp.fc2.weight").asFloats()),
                Arrays.toString(fresh.get("backbone.blocks.1.mlp.fc2.weight").asFloats()),
                "the weights make a difference");
    }

    @Test
    void badWeightsStopEveryCommandWithOneLine() throws Exception {
        Map<String, Tensor> hf = new LinkedHashMap<>();
        Safetensors.read(LAYOUTS.get("transformers")).tensors().forEach((k, v) -> {
            if (!k.equals("encoder.layer.1.attention.attention.key.weight")) {
                hf.put(k, new Tensor(v.shape(), v.asFloats()));
            }
        });
        Path broken = Files.createDirectories(tmp.resolve("broken")).resolve("model.safetensors");
        PublishedBackbones.writeSafetensors(broken, hf);
        String missing = "missing tensor encoder.layer.1.attention.attention.key.weight";
        assertOneLine(CliTestSupport.main("eval", "knn", "--weights", broken.toString()), broken, missing);
        assertOneLine(
                CliTestSupport.main(
                        "curate",
                        "--source",
                        images.getParent().toString(),
                        "--out",
                        tmp.resolve("x").toString(),
                        "--embedder",
                        "vit:" + broken),
                broken,
                missing);
        assertOneLine(
                CliTestSupport.main(
                        "distill",
                        "--teacher",
                        broken.toString(),
                        "--student-preset",
                        "fmnist-pico",
                        "--set",
                        "distill.missing-teacher-heads=random",
                        "--out",
                        tmp.resolve("y").toString()),
                broken,
                missing);
        assertOneLine(
                CliTestSupport.main(
                        "train",
                        "--config",
                        "fmnist-pico",
                        "--set",
                        "model.pretrained-weights=\"" + LAYOUTS.get("timm") + "\"",
                        "--out",
                        tmp.resolve("z").toString()),
                LAYOUTS.get("timm"),
                "dinoj.model.layerscale = 0.0 (off), the file has LayerScale");
    }

    private static JsonNode knn(String... model) throws Exception {
        List<String> args = new ArrayList<>(List.of("eval", "knn"));
        args.addAll(List.of(model));
        args.addAll(List.of("--train-limit", "1000", "--test-limit", "200", "--ks", "20", "--no-cache", "--no-record"));
        CliTestSupport.Run r = CliTestSupport.main(args.toArray(String[]::new));
        assertEquals(0, r.code(), r::toString);
        String json = r.out()
                .lines()
                .filter(l -> l.startsWith("{\"eval\":\"knn\""))
                .findFirst()
                .orElseThrow();
        return new ObjectMapper().readTree(json).get("k");
    }

    private static List<String> curate(String embedder, Path pool, Path queries, String name) throws Exception {
        Path out = tmp.resolve("curated-" + name);
        CliTestSupport.Run r = CliTestSupport.main(
                "curate",
                "--source",
                pool.toString(),
                "--queries",
                queries.toString(),
                "--per-query",
                "5",
                "--per-cluster",
                "0",
                "--out",
                out.toString(),
                "--work",
                tmp.resolve("work-" + name).toString(),
                "--embedder",
                embedder,
                "--batch",
                "64");
        assertEquals(0, r.code(), r::toString);
        CuratedDataset ds = CuratedDataset.open(out);
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < ds.size(); i++) {
            keys.add(ds.entry(i).key());
        }
        return keys;
    }

    /** Two steps of fmnist-pico (with LayerScale, as the files have it), from {@code weights} unless null. */
    private static Path train(String name, Path weights) {
        Path out = tmp.resolve("train-" + name);
        List<String> args = new ArrayList<>(List.of(
                "train",
                "--config",
                "fmnist-pico",
                "--set",
                "model.layerscale=1.0e-5",
                "--set",
                "train.max-steps=2",
                "--set",
                "data.loader-threads=1",
                "--set",
                CliTestSupport.idxDataset(images),
                "--out",
                out.toString()));
        if (weights != null) {
            args.addAll(List.of("--set", "model.pretrained-weights=\"" + weights + "\""));
        }
        CliTestSupport.Run r = CliTestSupport.main(args.toArray(String[]::new));
        assertEquals(0, r.code(), r::toString);
        return out;
    }

    private static Map<String, NpyArray> lastCheckpoint(Path run, String file) throws Exception {
        return Safetensors.read(Checkpoints.latest(run).orElseThrow().resolve(file))
                .tensors();
    }

    private static void assertSameTensors(Map<String, NpyArray> want, Map<String, NpyArray> got, String layout) {
        assertEquals(want.keySet(), got.keySet(), layout);
        want.forEach((k, v) -> assertArrayEquals(v.asFloats(), got.get(k).asFloats(), layout + ": " + k));
    }

    private static void assertOneLine(CliTestSupport.Run r, Path file, String what) {
        assertEquals(2, r.code(), r::toString);
        assertTrue(r.err().contains(file.toString()) && r.err().contains(what), r::toString);
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r);
        assertEquals(1, r.err().lines().filter(l -> l.startsWith("error:")).count(), r::toString);
    }
}
