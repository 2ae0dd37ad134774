package dev.dinoj.deploy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.testkit.StdStreams;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/** Helpers of the CLI tests: in-process runs with captured output, child JVMs, file-format readers. */
public final class CliTestSupport {

    private static final ObjectMapper JSON = new ObjectMapper();

    private CliTestSupport() {}

    // ---------------------------------------------------------------- in-process runs

    /** Exit code and everything written to System.out / System.err while {@link Main#run} ran. */
    public record Run(int code, String out, String err) {
        String all() {
            return out + err;
        }

        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout ---\n" + tail(out) + "\n--- stderr ---\n" + tail(err);
        }

        private static String tail(String s) {
            return s.length() <= 6000 ? s : "…" + s.substring(s.length() - 6000);
        }
    }

    /** Runs {@code Main.run(args)} in this JVM with System.out and System.err captured. */
    public static Run main(String... args) {
        StdStreams.Captured<Integer> c = StdStreams.capture(() -> Main.run(args));
        return new Run(c.value(), c.out(), c.err());
    }

    // ---------------------------------------------------------------- child JVMs

    /** A {@code java … dev.dinoj.deploy.cli.Main args} child with stdout+stderr going to {@code log}. */
    static ProcessBuilder childMain(Path workDir, Path log, List<String> args) {
        List<String> cmd = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx1g",
                "-XX:+UseSerialGC",
                "--add-exports",
                "java.base/jdk.internal.misc=ALL-UNNAMED",
                "-Dai.djl.offline=true",
                "-cp",
                testClasspath(),
                "dev.dinoj.deploy.cli.Main"));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("DINOJ_LOG_LEVEL", "INFO"); // the per-step "step N/M" log lines are watched
        return pb;
    }

    /**
     * The class path of this test JVM, usable by a child: surefire's manifest-only booter jar is expanded into
     * its Class-Path entries.
     */
    static String testClasspath() {
        String cp = System.getProperty("java.class.path");
        List<String> out = new ArrayList<>();
        for (String entry : cp.split(File.pathSeparator)) {
            if (entry.isEmpty()) {
                continue;
            }
            out.add(entry);
            if (entry.endsWith(".jar")
                    && Path.of(entry).getFileName().toString().startsWith("surefire")) {
                try (JarFile jar = new JarFile(entry)) {
                    Manifest mf = jar.getManifest();
                    String classPath =
                            mf == null ? null : mf.getMainAttributes().getValue("Class-Path");
                    if (classPath != null) {
                        URI base = Path.of(entry).toAbsolutePath().toUri();
                        for (String u : classPath.trim().split("\\s+")) {
                            out.add(Path.of(base.resolve(u)).toString());
                        }
                    }
                } catch (IOException | IllegalArgumentException e) {
                    throw new IllegalStateException("cannot read the class path from " + entry, e);
                }
            }
        }
        return String.join(File.pathSeparator, out);
    }

    // ---------------------------------------------------------------- data

    /** Writes an uncompressed IDX image file of {@code n} seeded random {@code size x size} images. */
    static Path writeIdxImages(Path file, int n, int size, long seed) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(16 + n * size * size).order(ByteOrder.BIG_ENDIAN);
        b.putInt(0x00000803).putInt(n).putInt(size).putInt(size);
        SplittableRandom r = new SplittableRandom(seed);
        while (b.hasRemaining()) {
            b.put((byte) r.nextInt(256));
        }
        Files.createDirectories(file.toAbsolutePath().getParent());
        Files.write(file, b.array());
        return file;
    }

    /** A {@code --set} override selecting an IDX image file as the training data (HOCON-quoted). */
    static String idxDataset(Path file) {
        return "data.dataset=\"idx:" + file.toAbsolutePath() + "\"";
    }

    /** The official DINOv2 step fixture (variant a) kept in the trainer module's test resources. */
    static Path fixtureA() {
        List<Path> roots = new ArrayList<>();
        String repo = System.getProperty("dinoj.repo.root");
        if (repo != null && !repo.isBlank()) {
            roots.add(Path.of(repo));
        }
        Path cwd = Path.of("").toAbsolutePath();
        roots.add(cwd.getParent()); // surefire runs in the module directory (deploy/)
        roots.add(cwd);
        for (Path root : roots) {
            Path p = root == null ? null : root.resolve("trainer/src/test/resources/fixtures/dinov2-step/a");
            if (p != null && Files.isRegularFile(p.resolve("manifest.json"))) {
                return p;
            }
        }
        throw new IllegalStateException(
                "fixture trainer/src/test/resources/fixtures/dinov2-step/a not found from " + roots);
    }

    static void copyDir(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (var s = Files.list(from)) {
            for (Path f : (Iterable<Path>) s::iterator) {
                if (Files.isDirectory(f)) {
                    copyDir(f, to.resolve(f.getFileName().toString()));
                } else {
                    Files.copy(f, to.resolve(f.getFileName().toString()));
                }
            }
        }
    }

    // ---------------------------------------------------------------- file formats (independent of main code)

    /** One tensor of a safetensors file. */
    record StTensor(String dtype, long[] shape, byte[] data) {}

    /** A parsed safetensors file: metadata and tensors, in header order. */
    record Safetensors(Map<String, String> metadata, Map<String, StTensor> tensors) {}

    /** Parses a safetensors file: 8-byte little-endian header length, JSON header, then the data block. */
    static Safetensors readSafetensors(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(all, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n <= 0 || 8 + n > all.length) {
            throw new IOException(file + ": bad header length " + n);
        }
        JsonNode header = JSON.readTree(new String(all, 8, (int) n, StandardCharsets.UTF_8));
        int base = 8 + (int) n;
        Map<String, String> meta = new LinkedHashMap<>();
        Map<String, StTensor> tensors = new LinkedHashMap<>();
        long maxEnd = 0;
        for (var it = header.fields(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().equals("__metadata__")) {
                e.getValue()
                        .fields()
                        .forEachRemaining(m -> meta.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            JsonNode t = e.getValue();
            long[] shape = new long[t.get("shape").size()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = t.get("shape").get(i).asLong();
            }
            long start = t.get("data_offsets").get(0).asLong();
            long end = t.get("data_offsets").get(1).asLong();
            if (start < 0 || end < start || base + end > all.length) {
                throw new IOException(
                        file + ": tensor " + e.getKey() + " has bad data_offsets [" + start + ", " + end + "]");
            }
            maxEnd = Math.max(maxEnd, end);
            tensors.put(
                    e.getKey(),
                    new StTensor(
                            t.get("dtype").asText(),
                            shape,
                            Arrays.copyOfRange(all, base + (int) start, base + (int) end)));
        }
        if (base + maxEnd != all.length) {
            throw new IOException(file + ": " + (all.length - base - maxEnd) + " bytes after the last tensor");
        }
        return new Safetensors(meta, tensors);
    }

    private static final Pattern NPY_SHAPE = Pattern.compile("'shape':\\s*\\(([^)]*)\\)");

    /** Shapes of every array of an .npz file (a zip of .npy files), by name without ".npy". */
    static Map<String, long[]> npzShapes(Path file) throws IOException {
        Map<String, long[]> out = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(file.toFile())) {
            for (ZipEntry e : java.util.Collections.list(zip.entries())) {
                if (!e.getName().endsWith(".npy")) {
                    continue;
                }
                try (InputStream in = zip.getInputStream(e)) {
                    byte[] head = in.readNBytes(12);
                    int major = head[6];
                    int len;
                    int consumed;
                    if (major == 1) {
                        len = (head[8] & 0xff) | (head[9] & 0xff) << 8;
                        consumed = 10;
                    } else {
                        len = ByteBuffer.wrap(head, 8, 4)
                                .order(ByteOrder.LITTLE_ENDIAN)
                                .getInt();
                        consumed = 12;
                    }
                    byte[] rest = in.readNBytes(len - (12 - consumed));
                    String dict = (new String(head, consumed, 12 - consumed, StandardCharsets.ISO_8859_1)
                            + new String(rest, StandardCharsets.ISO_8859_1));
                    Matcher m = NPY_SHAPE.matcher(dict);
                    if (!m.find()) {
                        throw new IOException(file + "!" + e.getName() + ": no shape in " + dict);
                    }
                    long[] shape = Arrays.stream(m.group(1).split(","))
                            .map(String::trim)
                            .filter(s -> !s.isEmpty())
                            .mapToLong(Long::parseLong)
                            .toArray();
                    out.put(e.getName().substring(0, e.getName().length() - 4), shape);
                }
            }
        }
        return out;
    }
}
