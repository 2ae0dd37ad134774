package dev.dinoj.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.testkit.FashionMnist;
import dev.dinoj.trainer.checkpoint.Checkpoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance: {@code kill -9} during training, then {@code --resume}: the parameters at the next checkpoints equal
 * those of an uninterrupted run. Every run is a separate JVM running {@code dinoj train}, as a user would.
 */
class KillAndResumeTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern STEP_LOG = Pattern.compile("step (\\d+)/12\\b");
    private static final String[] TENSOR_FILES = {
        "student.safetensors", "teacher.safetensors", "optimizer.safetensors", "centers.safetensors"
    };

    /** The training arguments: fmnist-pico on Fashion-MNIST, or on a synthetic IDX file where it is not installed. */
    private static List<String> trainArgs(Path tmp, Path out) throws IOException {
        List<String> a = new ArrayList<>(List.of(
                "train",
                "--config",
                "fmnist-pico",
                "--set",
                "train.max-steps=12",
                "--set",
                "checkpoint.every-steps=4",
                "--set",
                "checkpoint.keep-last=10",
                "--out",
                out.toString()));
        if (!FashionMnist.isInstalled()) {
            Path idx = tmp.resolve("synthetic-images-idx3-ubyte");
            if (!Files.exists(idx)) {
                CliTestSupport.writeIdxImages(idx, 256, 28, 7);
            }
            a.addAll(List.of("--set", CliTestSupport.idxDataset(idx)));
        }
        return a;
    }

    private static List<String> with(List<String> args, String... more) {
        List<String> a = new ArrayList<>(args);
        a.addAll(List.of(more));
        return a;
    }

    private static int runToCompletion(Path tmp, Path log, List<String> args) throws Exception {
        Process p = CliTestSupport.childMain(tmp, log, args).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            fail("child JVM did not finish in 120 s: " + String.join(" ", args) + "\n" + tail(log));
        }
        return p.exitValue();
    }

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void killNineThenResumeReachesTheParametersOfAnUninterruptedRun(@TempDir Path tmp) throws Exception {
        Path a = tmp.resolve("A");
        Path b = tmp.resolve("B");

        // A: uninterrupted
        Path logA = tmp.resolve("A.log");
        assertEquals(0, runToCompletion(tmp, logA, trainArgs(tmp, a)), () -> "run A failed:\n" + tail(logA));
        for (int s : new int[] {4, 8, 12}) {
            assertTrue(Files.isDirectory(ckpt(a, s)), "A lacks " + ckpt(a, s));
        }

        // B: SIGKILL between checkpoint 4 and checkpoint 8
        Path logB = tmp.resolve("B.log");
        Process p = CliTestSupport.childMain(tmp, logB, trainArgs(tmp, b)).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        long seen = -1;
        while (true) {
            if (!p.isAlive()) {
                fail("run B ended (exit " + p.exitValue() + ") before it could be killed at step 6; last step seen "
                        + seen + "\n" + tail(logB));
            }
            seen = Math.max(lastLoggedStep(logB), lastMetricsStep(b.resolve("metrics.jsonl")));
            if (seen >= 6 && Files.isDirectory(ckpt(b, 4))) {
                break;
            }
            if (System.nanoTime() > deadline) {
                p.destroyForcibly().waitFor();
                fail("run B did not reach step 6 in 120 s\n" + tail(logB));
            }
            Thread.sleep(5);
        }
        p.destroyForcibly(); // SIGKILL on Linux: no shutdown hooks, no finally blocks
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "killed child did not go away");
        assertEquals(137, p.exitValue(), "the child must die of SIGKILL (128 + 9)");
        assertTrue(Files.isDirectory(ckpt(b, 4)), "B must have checkpoint 4 when killed");
        assertFalse(
                Files.exists(ckpt(b, 8)),
                "the kill (seen step " + seen + ") must land between checkpoints 4 and 8, "
                        + "but step-00000008 already exists; the machine is too slow for this test's timing\n"
                        + tail(logB));

        // a kill in the middle of a save leaves a temporary directory; it must never count as a checkpoint
        Path partial = b.resolve("checkpoints/.tmp-step-00000008-00000000-0000-0000-0000-000000000000");
        Files.createDirectories(partial);
        Files.write(partial.resolve("student.safetensors"), new byte[] {1, 2, 3});
        Files.writeString(
                partial.resolve("state.json"),
                "{\"step\": 8, \"sampler_position\": 64, \"optimizer_steps\": 8, \"seed\": 0}");
        assertEquals(
                List.of(ckpt(b, 4)), Checkpoints.list(b), "only step-00000004 is a checkpoint of B after the kill");

        // resume B to the end
        Path logR = tmp.resolve("B-resume.log");
        assertEquals(
                0,
                runToCompletion(tmp, logR, with(trainArgs(tmp, b), "--resume")),
                () -> "resume failed:\n" + tail(logR));
        assertTrue(
                Files.readString(logR).contains("Resuming from"),
                () -> "resume did not start from a checkpoint:\n" + tail(logR));

        for (int s : new int[] {8, 12}) {
            for (String f : TENSOR_FILES) {
                Path fa = ckpt(a, s).resolve(f);
                Path fb = ckpt(b, s).resolve(f);
                assertTrue(Files.isRegularFile(fb), "missing " + fb);
                assertArrayEquals(
                        Files.readAllBytes(fa),
                        Files.readAllBytes(fb),
                        "step " + s + " " + f + ": resumed run differs from the uninterrupted one");
            }
            JsonNode sa = JSON.readTree(ckpt(a, s).resolve("state.json").toFile());
            JsonNode sb = JSON.readTree(ckpt(b, s).resolve("state.json").toFile());
            assertEquals(s, sb.get("step").asLong(), "state.json step");
            assertEquals(sa.get("step").asLong(), sb.get("step").asLong(), "state.json step");
            assertEquals(
                    sa.get("sampler_position").asLong(),
                    sb.get("sampler_position").asLong(),
                    "state.json sampler_position");
            assertEquals(
                    sa.get("optimizer_steps").asLong(),
                    sb.get("optimizer_steps").asLong(),
                    "state.json optimizer_steps");
            Checkpoints.verify(ckpt(b, s)); // checksums of the resumed checkpoint hold
        }

        // the temporary directory is still not a checkpoint; the checkpoints are exactly 4, 8, 12
        List<Path> listed = Checkpoints.list(b);
        assertEquals(List.of(ckpt(b, 4), ckpt(b, 8), ckpt(b, 12)), listed);
        for (Path c : listed) {
            assertFalse(c.getFileName().toString().startsWith(".tmp-"), c + " is a temporary directory");
        }
        assertEquals(ckpt(b, 12), Checkpoints.latest(b).orElseThrow());

        // metrics.jsonl: exactly one line per step, 1..12, and the recomputed steps match A's
        List<String> linesB = Files.readAllLines(b.resolve("metrics.jsonl"));
        List<String> linesA = Files.readAllLines(a.resolve("metrics.jsonl"));
        assertEquals(12, linesB.size(), "metrics.jsonl of B after the resume:\n" + String.join("\n", linesB));
        for (int i = 0; i < 12; i++) {
            JsonNode jb = JSON.readTree(linesB.get(i));
            JsonNode ja = JSON.readTree(linesA.get(i));
            assertEquals(i + 1, jb.get("step").asLong(), "line " + (i + 1) + " of metrics.jsonl");
            assertEquals(
                    ja.get("total_loss").asDouble(), jb.get("total_loss").asDouble(), "total_loss of step " + (i + 1));
        }
    }

    /**
     * A SIGKILL can cut metrics.jsonl in the middle of a line: it is written through a BufferedWriter that is
     * flushed only at checkpoints, and buffer-full flushes write 8 KiB chunks regardless of line ends (observed:
     * fmnist-pico, checkpoint.every-steps=39, killed at step 36 leaves 15 lines and a truncated 16th). This test
     * reproduces that state deterministically.
     */
    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void resumeSurvivesATruncatedLastMetricsLine(@TempDir Path tmp) throws Exception {
        Path idx = CliTestSupport.writeIdxImages(tmp.resolve("images-idx3-ubyte"), 128, 28, 3);
        Path run = tmp.resolve("run");
        List<String> args = List.of(
                "train",
                "--config",
                "fmnist-pico",
                "--set",
                CliTestSupport.idxDataset(idx),
                "--set",
                "checkpoint.every-steps=4",
                "--set",
                "data.loader-threads=1",
                "--out",
                run.toString());
        CliTestSupport.Run first =
                CliTestSupport.main(with(args, "--set", "train.max-steps=8").toArray(String[]::new));
        assertEquals(0, first.code(), first::toString);
        // what a kill -9 after a buffer-full flush during step 9..10 leaves behind
        Files.writeString(
                run.resolve("metrics.jsonl"), "{\"step\":9,\"dino_local_crops_loss\":4.1", StandardOpenOption.APPEND);
        CliTestSupport.Run resumed = CliTestSupport.main(
                with(args, "--set", "train.max-steps=12", "--resume", "--json").toArray(String[]::new));
        assertEquals(0, resumed.code(), resumed::toString);
        JsonNode result =
                JSON.readTree(resumed.out().strip().lines().reduce((a, b) -> b).orElseThrow());
        assertEquals(8, result.get("start_step").asLong(), "--json: one line a script reads");
        assertEquals(12, result.get("end_step").asLong());
        assertTrue(result.get("last_checkpoint").asText().endsWith("step-00000012"), result.toString());
        assertTrue(result.has("total_loss") && result.has("dino_local_crops_loss"), result.toString());
        List<String> lines = Files.readAllLines(run.resolve("metrics.jsonl"));
        assertEquals(12, lines.size(), String.join("\n", lines));
        for (int i = 0; i < 12; i++) {
            assertEquals(i + 1, JSON.readTree(lines.get(i)).get("step").asLong());
        }
    }

    /**
     * SIGTERM (kill, Ctrl-C, a scheduler's preemption) during training: the run finishes the step in flight, writes a
     * checkpoint there and exits, instead of losing the steps since the last checkpoint — and the JVM does not crash
     * in libtorch's exit handlers while a backward pass is still running (an hs_err file in the working directory).
     */
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void sigtermCheckpointsTheStepReachedAndExitsCleanly(@TempDir Path tmp) throws Exception {
        Path run = tmp.resolve("T");
        Path log = tmp.resolve("T.log");
        List<String> args = new ArrayList<>(trainArgs(tmp, run));
        args.addAll(List.of(
                "--set",
                "train.max-steps=100000",
                "--set",
                "checkpoint.every-steps=100000",
                "--set",
                "train.batch-size=32",
                "--set",
                "data.loader-threads=1"));
        Process p = CliTestSupport.childMain(tmp, log, args).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        Pattern any = Pattern.compile("step (\\d+)/100000\\b");
        while (lastStep(log, any) < 5) {
            assertTrue(p.isAlive(), () -> "the run ended before it could be stopped:\n" + tail(log));
            assertTrue(System.nanoTime() < deadline, () -> "no step 5 in 120 s:\n" + tail(log));
            Thread.sleep(20);
        }
        p.destroy(); // SIGTERM on Linux: shutdown hooks run
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child did not exit after SIGTERM");
        assertEquals(143, p.exitValue(), () -> "exit status after SIGTERM (128 + 15)\n" + tail(log));
        String text = Files.readString(log);
        Matcher m = Pattern.compile("Stopped on a termination signal after step (\\d+)")
                .matcher(text);
        assertTrue(m.find(), () -> "no orderly stop in the log:\n" + tail(log));
        int stopped = Integer.parseInt(m.group(1));
        assertTrue(stopped >= 5, "stopped at step " + stopped);
        assertEquals(ckpt(run, stopped), Checkpoints.latest(run).orElseThrow(), "the checkpoint of the step reached");
        Checkpoints.verify(ckpt(run, stopped));
        try (var files = Files.list(tmp)) {
            assertEquals(
                    List.of(),
                    files.filter(f -> f.getFileName().toString().startsWith("hs_err"))
                            .toList(),
                    "the JVM crashed on exit");
        }
        assertFalse(text.contains("SIGSEGV"), () -> tail(log));
    }

    /** The highest step number {@code p} (group 1) finds in a child's log, -1 if none yet. */
    private static long lastStep(Path log, Pattern p) throws IOException {
        if (!Files.exists(log)) {
            return -1;
        }
        long max = -1;
        Matcher m = p.matcher(Files.readString(log));
        while (m.find()) {
            max = Math.max(max, Long.parseLong(m.group(1)));
        }
        return max;
    }

    // ---------------------------------------------------------------- helpers

    private static Path ckpt(Path run, int step) {
        return run.resolve("checkpoints").resolve(String.format("step-%08d", step));
    }

    /** The highest "step N/12" in a child's log, -1 if none yet. */
    private static long lastLoggedStep(Path log) throws IOException {
        return lastStep(log, STEP_LOG);
    }

    /** The highest "step" of the complete lines of metrics.jsonl, -1 if none (it is flushed at checkpoints). */
    private static long lastMetricsStep(Path metrics) {
        long max = -1;
        try {
            if (!Files.exists(metrics)) {
                return -1;
            }
            String text = Files.readString(metrics);
            int end = text.lastIndexOf('\n');
            if (end < 0) {
                return -1;
            }
            for (String line : text.substring(0, end).split("\n")) {
                if (!line.isBlank()) {
                    max = Math.max(max, JSON.readTree(line).get("step").asLong());
                }
            }
        } catch (IOException | RuntimeException e) {
            // being written concurrently; the log is the primary signal
        }
        return max;
    }

    private static String tail(Path log) {
        try {
            String s = Files.readString(log);
            return s.length() <= 6000 ? s : "…" + s.substring(s.length() - 6000);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
