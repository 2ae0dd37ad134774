package dev.dinoj.pipeline.curate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.pipeline.search.FloatMatrix;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The Faiss side of {@code dinoj bench curation}: the bundled script {@code faiss_curation.py} (a resource next to
 * this class, derived from the project's {@code shared/bench/faiss_cpu.py}) run by a Python 3 that has
 * {@code python3-faiss}, on the very matrix dinoj benchmarks (written once as raw float32), one job per process so the
 * two sides run one after the other, never at once.
 */
final class FaissSide implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String python;
    private final Path dir;
    private final Path script;
    private Path data;
    private int rows;
    private int cols;

    private FaissSide(String python, Path dir) throws IOException {
        this.python = python;
        this.dir = dir;
        this.script = dir.resolve("faiss_curation.py");
        try (InputStream in = FaissSide.class.getResourceAsStream("faiss_curation.py")) {
            if (in == null) {
                throw new IllegalStateException("faiss_curation.py is missing from the classpath");
            }
            Files.copy(in, script);
        }
    }

    /**
     * Finds a Python with Faiss.
     *
     * @param python {@code auto} (tries {@code python3} on the PATH, then {@code /usr/bin/python3}), {@code off}, or
     *               the Python executable to use
     * @return the runner, or null when off or no Python imports {@code faiss} (the reason goes to {@code why})
     */
    static FaissSide find(String python, StringBuilder why) {
        if ("off".equals(python)) {
            why.append("off");
            return null;
        }
        List<String> tries = "auto".equals(python) ? List.of("python3", "/usr/bin/python3") : List.of(python);
        for (String p : tries) {
            if (imports(p)) {
                try {
                    return new FaissSide(p, Files.createTempDirectory("dinoj-faiss-"));
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
        why.append("no ").append(String.join(" or ", tries)).append(" that imports faiss (python3-faiss)");
        return null;
    }

    private static boolean imports(String python) {
        try {
            Process p = new ProcessBuilder(python, "-c", "import faiss, numpy")
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** The Python used. */
    String python() {
        return python;
    }

    /** Writes the matrix the jobs run on (little-endian float32, row-major). */
    void setData(FloatMatrix x) {
        try {
            data = dir.resolve("x.f32");
            try (OutputStream os = Files.newOutputStream(data)) {
                ByteBuffer b = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : x.data()) {
                    if (!b.hasRemaining()) {
                        os.write(b.array(), 0, b.position());
                        b.clear();
                    }
                    b.putFloat(v);
                }
                os.write(b.array(), 0, b.position());
            }
            rows = x.rows();
            cols = x.cols();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Runs one job ({@code kmeans} with {@code k} clusters and {@code iterations}, or {@code knn} with {@code k}
     * neighbours) on the data, with as many threads as the JVM sees cores.
     *
     * @return the script's JSON (its {@code seconds} timed inside Python, without start-up and loading)
     */
    JsonNode run(String job, int k, int iterations, long seed) {
        List<String> cmd = new ArrayList<>(List.of(
                python,
                script.toString(),
                "--data",
                data.toString(),
                "--n",
                Integer.toString(rows),
                "--dim",
                Integer.toString(cols),
                "--job",
                job,
                "--k",
                Integer.toString(k),
                "--iterations",
                Integer.toString(iterations),
                "--seed",
                Long.toString(seed),
                "--threads",
                Integer.toString(Runtime.getRuntime().availableProcessors())));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int rc = p.waitFor();
            for (String line : out.split("\n")) {
                if (line.startsWith("JSON ") && rc == 0) {
                    return JSON.readTree(line.substring(5));
                }
            }
            throw new IllegalStateException("the Faiss " + job + " job failed (exit " + rc + "): " + out.strip());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while Faiss ran", e);
        }
    }

    @Override
    public void close() {
        try (var s = Files.list(dir)) {
            for (Path f : (Iterable<Path>) s::iterator) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        } catch (IOException ignored) {
            // a temp file left behind is harmless
        }
    }
}
