package dev.dinoj.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code scripts/gpu-check --device cpu --quick}: the GPU acceptance suite runs end to end on the CPU (both fixture
 * replays, the train-step benches of fmnist-tiny and vits14) and leaves its outputs where it says; and
 * {@code --device cuda} on a build without CUDA natives is one line naming the key, exit 2.
 */
class GpuCheckScriptTest {

    /**
     * About 30 s of CPU in all (4 JVMs: two fixture replays, two one-step benches); the wait is generous for a loaded
     * machine.
     */
    @Test
    @Timeout(320)
    void theSuiteRunsOnTheCpuAndWritesItsOutputs(@TempDir Path tmp) throws Exception {
        Path root = Path.of(System.getProperty("dinoj.repo.root"));
        Path out = tmp.resolve("check");
        Path log = tmp.resolve("gpu-check.log");
        ProcessBuilder pb = new ProcessBuilder(
                        "bash",
                        root.resolve("scripts/gpu-check").toString(),
                        "--device",
                        "cpu",
                        "--quick",
                        "--out",
                        out.toString())
                .directory(root.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        pb.environment()
                .put(
                        "DINOJ",
                        java + " -Xmx2g -XX:+UseSerialGC --add-exports java.base/jdk.internal.misc=ALL-UNNAMED"
                                + " -Dai.djl.offline=true -cp '" + CliTestSupport.testClasspath()
                                + "' dev.dinoj.deploy.cli.Main");
        Process p = pb.start();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "gpu-check did not finish: " + Files.readString(log));
        String said = Files.readString(log);
        assertEquals(0, p.exitValue(), said);

        List<String> summary = Files.readAllLines(out.resolve("summary.txt"));
        String last = summary.get(summary.size() - 1);
        assertTrue(last.matches("\\d+ passed, 0 failed"), String.join("\n", summary));
        for (String fixture : List.of("a", "b")) {
            String v = Files.readString(out.resolve("verify-reference-" + fixture + ".txt"));
            assertTrue(v.contains("PASS ("), "fixture " + fixture + ": " + v);
        }
        List<String> jsonl = Files.readAllLines(out.resolve("bench.jsonl"));
        assertTrue(jsonl.size() >= 2, "bench.jsonl: " + jsonl);
        assertTrue(jsonl.get(0).startsWith("{\"check\":\"bench-fmnist-tiny-fp32\",\"device\":\"cpu\","), jsonl.get(0));
        assertTrue(jsonl.get(1).startsWith("{\"check\":\"bench-vits14-fp32\",\"device\":\"cpu\","), jsonl.get(1));
        for (String line : jsonl) {
            assertTrue(line.contains("\"images_per_s\":"), line);
        }
        String table = Files.readString(out.resolve("bench-vits14-fp32.txt"));
        assertTrue(table.contains("images/s"), table);
        String env = Files.readString(out.resolve("env.txt"));
        assertTrue(env.contains("device: cpu"), env);
    }

    @Test
    void cudaWithoutCudaNativesIsOneLineNamingTheKey() {
        Assumptions.assumeFalse(
                Engine.getInstance().hasCapability(StandardCapabilities.CUDA), "this build has CUDA natives");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream saved = System.err;
        int rc;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            rc = Main.run("bench", "train-step", "--config", "fmnist-pico", "--device", "cuda", "--steps", "1");
        } finally {
            System.setErr(saved);
        }
        String said = err.toString(StandardCharsets.UTF_8).trim();
        assertEquals(2, rc, said);
        List<String> errors = said.lines().filter(l -> l.startsWith("error: ")).toList();
        assertEquals(1, errors.size(), said);
        assertTrue(
                errors.get(0).contains("dinoj.device = cuda") && errors.get(0).contains("no CUDA"), said);
    }
}
