package dev.dinoj.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;

/** The {@code dinoj} command line, run in-process through {@link Main#run} with its output captured. */
class CliTest {

    @TempDir
    static Path tmp;

    /** An unlabelled IDX image file (random pixels) so training runs without Fashion-MNIST. */
    static Path images;

    @BeforeAll
    static void data() throws Exception {
        images = CliTestSupport.writeIdxImages(tmp.resolve("random-images-idx3-ubyte"), 64, 28, 1);
    }

    private static CliTestSupport.Run run(String... args) {
        return CliTestSupport.main(args);
    }

    private static void assertUserError(CliTestSupport.Run r, String... mustName) {
        assertEquals(2, r.code(), r::toString);
        for (String s : mustName) {
            assertTrue(r.err().contains(s), () -> "stderr must name " + s + "\n" + r);
        }
        assertTrue(r.err().contains("error: "), r::toString);
        assertFalse(r.err().contains("\tat "), () -> "a user error prints no stack trace\n" + r);
    }

    // ---------------------------------------------------------------- verify-reference

    @Test
    void verifyReferencePassesOnTheOfficialFixture() {
        CliTestSupport.Run r =
                run("verify-reference", "--fixture", CliTestSupport.fixtureA().toString());
        assertEquals(0, r.code(), r::toString);
        List<String> lines = r.out().lines().filter(l -> !l.isBlank()).collect(Collectors.toList());
        assertTrue(lines.size() > 200, () -> "one line per quantity expected, got " + lines.size() + "\n" + r);
        assertTrue(lines.get(lines.size() - 1).startsWith("PASS"), r::toString);
        assertTrue(lines.subList(0, lines.size() - 1).stream().allMatch(l -> l.startsWith("ok ")), r::toString);
        assertTrue(lines.stream().anyMatch(l -> l.contains("loss dino_local_crops_loss")), r::toString);
    }

    @Test
    void verifyReferenceFailsOnATamperedFixture() throws Exception {
        Path fixture = tmp.resolve("tampered-fixture");
        CliTestSupport.copyDir(CliTestSupport.fixtureA(), fixture);
        Path manifestFile = fixture.resolve("manifest.json");
        fixture.resolve("manifest.json").toFile().setWritable(true);
        ObjectMapper json = new ObjectMapper();
        ObjectNode manifest = (ObjectNode) json.readTree(manifestFile.toFile());
        ObjectNode losses = (ObjectNode) manifest.get("steps").get(1).get("losses");
        double official = losses.get("ibot_loss").asDouble();
        losses.put("ibot_loss", official * 1.01); // 1 % off; the tolerance is 1e-4 relative
        Files.delete(manifestFile);
        json.writerWithDefaultPrettyPrinter().writeValue(manifestFile.toFile(), manifest);

        CliTestSupport.Run r = run("verify-reference", "--fixture", fixture.toString());
        assertEquals(1, r.code(), r::toString);
        List<String> lines = r.out().lines().filter(l -> !l.isBlank()).collect(Collectors.toList());
        assertTrue(lines.get(lines.size() - 1).startsWith("FAIL"), r::toString);
        List<String> failed = lines.subList(0, lines.size() - 1).stream()
                .filter(l -> l.startsWith("FAIL"))
                .collect(Collectors.toList());
        assertEquals(1, failed.size(), () -> "exactly the tampered loss fails: " + failed);
        assertTrue(failed.get(0).contains("step1 loss ibot_loss"), failed.get(0));

        CliTestSupport.Run only = run("verify-reference", "--failures-only", "--fixture", fixture.toString());
        assertEquals(1, only.code(), only::toString);
        assertEquals(2, only.out().lines().filter(l -> !l.isBlank()).count(), only::toString);
    }

    @Test
    void verifyReferenceInBf16PassesItsBoundsAndAnUnknownPrecisionIsAUserError() {
        CliTestSupport.Run r = run(
                "verify-reference",
                "--precision",
                "bf16",
                "--fixture",
                CliTestSupport.fixtureA().toString());
        assertEquals(0, r.code(), r::toString);
        List<String> lines = r.out().lines().filter(l -> !l.isBlank()).collect(Collectors.toList());
        assertTrue(lines.get(lines.size() - 1).startsWith("PASS"), r::toString);
        assertTrue(lines.get(lines.size() - 1).contains("bf16/sdpa, bf16 bounds"), r::toString);
        assertUserError(
                run(
                        "verify-reference",
                        "--precision",
                        "fp16",
                        "--fixture",
                        CliTestSupport.fixtureA().toString()),
                "--precision",
                "fp16");
        assertUserError(
                run("bench", "train-step", "--compare-precision", "--compare-attention"), "--compare-precision");
    }

    @Test
    void verifyReferenceOnAFolderWithoutAManifestIsAUserError() {
        assertUserError(run("verify-reference", "--fixture", tmp.toString()), tmp.toString(), "manifest.json");
    }

    // ---------------------------------------------------------------- configuration errors

    @Test
    void unknownKeyIsRejectedWithItsFullName() {
        assertUserError(
                run(
                        "train",
                        "--config",
                        "fmnist-pico",
                        "--set",
                        "optim.base_lr=0.1",
                        "--out",
                        tmp.resolve("x1").toString()),
                "dinoj.optim.base_lr");
        assertFalse(Files.exists(tmp.resolve("x1/checkpoints")));
    }

    @Test
    void outOfRangeValueIsRejectedWithItsFullName() {
        assertUserError(
                run(
                        "train",
                        "--config",
                        "fmnist-pico",
                        "--set",
                        "train.batch-size=0",
                        "--out",
                        tmp.resolve("x2").toString()),
                "dinoj.train.batch-size");
    }

    /**
     * Issue #17 item 5: a --set value is data, also on the local command line: it reads no environment variable
     * (one line naming the reference, not the value) and includes nothing (no URL is fetched).
     */
    @Test
    void setValuesReadNoEnvironmentAndIncludeNothing() throws Exception {
        String path = System.getenv("PATH");
        CliTestSupport.Run env = run(
                "train",
                "--config",
                "fmnist-pico",
                "--set",
                "data.dataset=${PATH}",
                "--out",
                tmp.resolve("x5").toString());
        assertUserError(env, "--set dinoj.data.dataset", "${PATH}");
        assertFalse(env.err().contains(path), env::toString);
        assertEquals(1, env.err().strip().lines().count(), env::toString);

        AtomicInteger fetched = new AtomicInteger();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", x -> {
            fetched.incrementAndGet();
            x.sendResponseHeaders(404, -1);
            x.close();
        });
        server.start();
        try {
            String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/x.conf";
            assertUserError(
                    run(
                            "train",
                            "--config",
                            "fmnist-pico",
                            "--set",
                            "train={ include url(\"" + url + "\") }",
                            "--out",
                            tmp.resolve("x6").toString()),
                    "--set dinoj.train",
                    "include is not allowed");
            assertEquals(0, fetched.get(), "the URL was fetched");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void unknownPresetIsRejectedByName() {
        assertUserError(
                run(
                        "train",
                        "--config",
                        "no-such-preset",
                        "--out",
                        tmp.resolve("x3").toString()),
                "no-such-preset");
    }

    @Test
    void missingDatasetFileIsNamed() {
        assertUserError(
                run(
                        "train",
                        "--config",
                        "fmnist-pico",
                        "--set",
                        "data.dataset=\"idx:/nonexistent/file\"",
                        "--out",
                        tmp.resolve("x4").toString()),
                "/nonexistent/file");
    }

    @Test
    void corruptIdxFileIsNamed() throws Exception {
        Path bad = tmp.resolve("garbage-images-idx3-ubyte");
        Files.write(bad, new byte[] {0x13, 0x37, 0x00, 0x42, 0x7f, (byte) 0xee, 0x01});
        assertUserError(
                run(
                        "train",
                        "--config",
                        "fmnist-pico",
                        "--set",
                        CliTestSupport.idxDataset(bad),
                        "--out",
                        tmp.resolve("x5").toString()),
                bad.toAbsolutePath().toString());
    }

    // ---------------------------------------------------------------- export

    /** Trains 3 steps of fmnist-pico on the random IDX images; returns the run directory. */
    private static Path trainPico(String name, String... extraSets) {
        Path out = tmp.resolve(name);
        List<String> args = new ArrayList<>(List.of(
                "train",
                "--config",
                "fmnist-pico",
                "--set",
                "train.max-steps=3",
                "--set",
                "data.loader-threads=1",
                "--set",
                CliTestSupport.idxDataset(images),
                "--out",
                out.toString()));
        for (String s : extraSets) {
            args.add("--set");
            args.add(s);
        }
        CliTestSupport.Run r = run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r::toString);
        assertTrue(Files.isDirectory(out.resolve("checkpoints/step-00000003")), r::toString);
        return out;
    }

    /** The fixture's backbone parameter names (official hub names) and shapes, "backbone." stripped. */
    private static Map<String, long[]> officialBackbone() throws Exception {
        return CliTestSupport.npzShapes(CliTestSupport.fixtureA().resolve("weights_init.npz")).entrySet().stream()
                .filter(e -> e.getKey().startsWith("backbone."))
                .collect(Collectors.toMap(e -> e.getKey().substring("backbone.".length()), Map.Entry::getValue));
    }

    @Test
    void exportWritesTheOfficialHubLayout() throws Exception {
        // same architecture as the fixture: ViT dim 64, depth 2, 4 heads, patch 4, 16 px, with LayerScale
        Path runDir = trainPico("export-ls", "model.layerscale=1e-5");
        Path file = tmp.resolve("export-ls.safetensors");
        CliTestSupport.Run r = run("export", "--checkpoint", runDir.toString(), "--out", file.toString());
        assertEquals(0, r.code(), r::toString);

        CliTestSupport.Safetensors st = CliTestSupport.readSafetensors(file);
        Map<String, long[]> official = officialBackbone();
        assertEquals(
                new TreeSet<>(official.keySet()), new TreeSet<>(st.tensors().keySet()), "exported key names");
        assertTrue(official.containsKey("blocks.1.ls2.gamma") && official.containsKey("pos_embed"));
        for (var e : official.entrySet()) {
            CliTestSupport.StTensor t = st.tensors().get(e.getKey());
            assertArrayEquals(e.getValue(), t.shape(), "shape of " + e.getKey());
            assertEquals("F32", t.dtype(), "dtype of " + e.getKey());
            assertEquals(
                    4 * Arrays.stream(t.shape()).reduce(1, (x, y) -> x * y), t.data().length, "bytes of " + e.getKey());
        }
        assertArrayEquals(new long[] {1, 17, 64}, st.tensors().get("pos_embed").shape());
        assertArrayEquals(
                new long[] {64, 3, 4, 4},
                st.tensors().get("patch_embed.proj.weight").shape());
        assertEquals("64", st.metadata().get("embed_dim"), st.metadata()::toString);
        assertEquals("2", st.metadata().get("depth"), st.metadata()::toString);
        assertEquals("4", st.metadata().get("patch_size"), st.metadata()::toString);
        assertEquals("16", st.metadata().get("img_size"), st.metadata()::toString);

        // the values are the teacher backbone of the newest checkpoint
        CliTestSupport.Safetensors teacher =
                CliTestSupport.readSafetensors(runDir.resolve("checkpoints/step-00000003/teacher.safetensors"));
        for (var e : st.tensors().entrySet()) {
            CliTestSupport.StTensor t = teacher.tensors().get("backbone." + e.getKey());
            assertTrue(t != null, "checkpoint teacher has no backbone." + e.getKey());
            assertArrayEquals(t.data(), e.getValue().data(), "values of " + e.getKey());
        }
        CliTestSupport.StTensor gamma = st.tensors().get("blocks.0.ls1.gamma");
        assertNotEquals(
                0f,
                java.nio.ByteBuffer.wrap(gamma.data())
                        .order(java.nio.ByteOrder.LITTLE_ENDIAN)
                        .getFloat(0));
    }

    @Test
    void exportWithoutLayerScaleHasTheHubNamesWithoutGamma() throws Exception {
        Path runDir = trainPico("export-nols");
        Path step = runDir.resolve("checkpoints/step-00000003");
        Path file = tmp.resolve("export-nols.safetensors");
        CliTestSupport.Run r = run("export", "--checkpoint", step.toString(), "--out", file.toString());
        assertEquals(0, r.code(), r::toString);
        Set<String> expected = officialBackbone().keySet().stream()
                .filter(k -> !k.matches("blocks\\.\\d+\\.ls[12]\\.gamma"))
                .collect(Collectors.toCollection(TreeSet::new));
        assertEquals(
                expected,
                new TreeSet<>(CliTestSupport.readSafetensors(file).tensors().keySet()));
    }

    @Test
    void exportOfSomethingThatIsNoCheckpointIsAUserError() {
        Path empty = tmp.resolve("not-a-run");
        empty.toFile().mkdirs();
        assertUserError(
                run(
                        "export",
                        "--checkpoint",
                        empty.toString(),
                        "--out",
                        tmp.resolve("y.safetensors").toString()),
                empty.toString());
    }

    // ---------------------------------------------------------------- --help everywhere

    /** Every command path of the CLI ([], [train], [eval, knn], …), found from picocli's model. */
    static Stream<List<String>> commandPaths() {
        List<List<String>> out = new ArrayList<>();
        collect(new CommandLine(new Main()), new ArrayList<>(), out);
        return out.stream();
    }

    private static void collect(CommandLine cl, List<String> prefix, List<List<String>> out) {
        out.add(List.copyOf(prefix));
        for (var e : cl.getSubcommands().entrySet()) {
            List<String> p = new ArrayList<>(prefix);
            p.add(e.getKey());
            collect(e.getValue(), p, out);
        }
    }

    @Test
    void theCommandTreeIsComplete() {
        Set<String> paths = commandPaths().map(p -> String.join(" ", p)).collect(Collectors.toSet());
        for (String want : new String[] {
            "", "demo", "train", "export", "eval", "eval knn", "bench", "bench train-step", "verify-reference"
        }) {
            assertTrue(paths.contains(want), () -> "no command '" + want + "' in " + paths);
        }
    }

    @ParameterizedTest(name = "dinoj {0} --help")
    @MethodSource("commandPaths")
    void everyCommandAnswersHelp(List<String> path) {
        List<String> args = new ArrayList<>(path);
        args.add("--help");
        CliTestSupport.Run r = run(args.toArray(String[]::new));
        assertEquals(0, r.code(), r::toString);
        assertTrue(
                r.out().contains("Usage: dinoj" + (path.isEmpty() ? "" : " " + String.join(" ", path))), r::toString);
        // picocli prints a description it cannot format (a bare "%") raw, with a warning on stderr
        assertFalse(r.err().contains("picocli WARN"), r::toString);
        // help speaks to users: no references to the project's issue tracker
        assertFalse(r.out().matches("(?is).*\\bissue\\s+#?\\d.*"), r::toString);
    }
}
