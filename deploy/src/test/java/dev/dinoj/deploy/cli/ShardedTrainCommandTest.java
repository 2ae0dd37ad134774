package dev.dinoj.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.testkit.FashionMnist;
import dev.dinoj.trainer.checkpoint.Checkpoints;
import dev.dinoj.trainer.io.NpyArray;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dinoj train --ranks N} (and {@code distill --ranks N}): two rank JVMs train two steps of the pico preset and write a sharded checkpoint,
 * which {@code --resume} continues with one rank and which the evaluation side reads like any checkpoint; a
 * single-process {@code --resume} of it and a batch that does not split over the ranks are refused with exit 2.
 */
class ShardedTrainCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    private static String[] args(Path tmp, Path out, String... more) throws Exception {
        List<String> a = new ArrayList<>(List.of("train", "--config", "fmnist-pico", "--out", out.toString()));
        a.addAll(List.of(more));
        if (!FashionMnist.isInstalled()) {
            Path idx = tmp.resolve("synthetic-images-idx3-ubyte");
            if (!Files.exists(idx)) {
                CliTestSupport.writeIdxImages(idx, 256, 28, 7);
            }
            a.addAll(List.of("--set", CliTestSupport.idxDataset(idx)));
        }
        return a.toArray(String[]::new);
    }

    private static List<JsonNode> metrics(Path out) throws Exception {
        List<JsonNode> m = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            m.add(JSON.readTree(line));
        }
        return m;
    }

    @Test
    @Timeout(600)
    void twoRankJvmsTrainAndOneRankResumesTheShardedCheckpoint(@TempDir Path tmp) throws Exception {
        System.setProperty("dinoj.child.classpath", CliTestSupport.testClasspath()); // ranks get the test class path
        Path out = tmp.resolve("run");

        CliTestSupport.Run two = CliTestSupport.main(args(tmp, out, "--ranks", "2", "--set", "train.max-steps=2"));
        assertEquals(0, two.code(), two.toString());
        Path ckpt = out.resolve("checkpoints/step-00000002");
        for (String f : new String[] {
            "manifest.json",
            "shard-00000-of-00002.safetensors",
            "shard-00001-of-00002.safetensors",
            "centers.safetensors",
            "config.conf",
            "SHA256SUMS"
        }) {
            assertTrue(Files.isRegularFile(ckpt.resolve(f)), "missing " + f);
        }
        assertTrue(Files.isRegularFile(out.resolve("ranks/rank-1.log")));
        List<JsonNode> m = metrics(out);
        assertEquals(2, m.size(), "rank 0 alone writes one line per step");
        for (int i = 0; i < 2; i++) {
            assertEquals(i + 1, m.get(i).get("step").asLong());
            assertTrue(Double.isFinite(m.get(i).get("total_loss").asDouble()));
            assertTrue(m.get(i).has("grad_norm_backbone"));
        }

        // the evaluation/export side reads the teacher of a sharded checkpoint by name
        assertEquals(2, Checkpoints.peek(out).step());
        Map<String, NpyArray> teacher = Checkpoints.teacher(out);
        assertTrue(
                teacher.containsKey("backbone.blocks.1.mlp.fc2.weight"),
                teacher.keySet().toString());
        assertEquals(
                List.of(1L, 17L, 64L), toList(teacher.get("backbone.pos_embed").shape())); // (16/4)² patches + CLS
        for (NpyArray a : teacher.values()) {
            for (float x : a.asFloats()) {
                assertTrue(Float.isFinite(x), a.name());
            }
        }

        // one rank continues the two-rank run: same stream, one more step, a one-shard checkpoint
        CliTestSupport.Run one =
                CliTestSupport.main(args(tmp, out, "--ranks", "1", "--resume", "--set", "train.max-steps=3"));
        assertEquals(0, one.code(), one.toString());
        assertTrue(Files.isRegularFile(out.resolve("checkpoints/step-00000003/shard-00000-of-00001.safetensors")));
        assertTrue(Files.readString(out.resolve("ranks/rank-0.log")).contains("written by 2 rank(s), now 1"));
        m = metrics(out);
        assertEquals(3, m.size());
        assertEquals(3, m.get(2).get("step").asLong());

        // a single-process resume of a sharded run is refused, naming the way to continue it
        CliTestSupport.Run plain = CliTestSupport.main(args(tmp, out, "--resume", "--set", "train.max-steps=4"));
        assertEquals(2, plain.code(), plain.toString());
        assertTrue(plain.err().contains("--ranks"), plain.err());

        // the global batch must split evenly over the ranks
        CliTestSupport.Run three = CliTestSupport.main(args(tmp, tmp.resolve("other"), "--ranks", "3"));
        assertEquals(2, three.code(), three.toString());
        assertTrue(three.err().contains("dinoj.train.batch-size"), three.err());
    }

    /**
     * Issue #7: {@code dinoj distill --ranks 2} with Gram anchoring on — both run in the sharded step: the teacher
     * record and the checkpoint's record of the teacher agree, the Gram teacher is checkpointed, the Gram loss is
     * logged from its first step, and eval reads the student's spare EMA.
     */
    @Test
    @Timeout(600)
    void distillationWithGramAnchoringRunsOnTwoRanks(@TempDir Path tmp) throws Exception {
        System.setProperty("dinoj.child.classpath", CliTestSupport.testClasspath());
        Path out = tmp.resolve("distilled");
        List<String> a = new ArrayList<>(List.of(
                "distill",
                "--ranks",
                "2",
                "--teacher",
                DistillCommandTest.teacher().toString(),
                "--student-preset",
                "fmnist-pico",
                "--out",
                out.toString(),
                "--set",
                "model.arch=vit_nano",
                "--set",
                "train.batch-size=8",
                "--set",
                "train.max-steps=3",
                "--set",
                "gram.use-loss=true",
                "--set",
                "gram.it-load-ema-teacher=1"));
        String[] base = args(tmp, out);
        for (int i = 0; i < base.length; i++) {
            if (base[i].equals("--set")) { // the synthetic data set without Fashion-MNIST
                a.addAll(List.of(base[i], base[i + 1]));
            }
        }
        CliTestSupport.Run r = CliTestSupport.main(a.toArray(String[]::new));
        assertEquals(0, r.code(), r.toString());
        Path ckpt = out.resolve("checkpoints/step-00000003");
        assertTrue(Files.isRegularFile(ckpt.resolve("shard-00001-of-00002.safetensors")));
        assertTrue(Files.isRegularFile(ckpt.resolve(Checkpoints.GRAM_TEACHER)), "Gram teacher checkpointed");
        String record = Files.readString(out.resolve("distill-teacher.sha256")).split("\\s+")[0];
        assertEquals(
                record,
                JSON.readTree(ckpt.resolve("manifest.json").toFile())
                        .get("distill_teacher_sha256")
                        .asText());
        List<JsonNode> m = metrics(out);
        assertEquals(3, m.size());
        assertTrue(!m.get(0).has("gram_loss") && m.get(2).get("gram_loss").asDouble() > 0, m.toString());
        Map<String, NpyArray> ema = Checkpoints.teacher(out);
        assertEquals(List.of(1L, 17L, 32L), toList(ema.get("backbone.pos_embed").shape()), "the nano student's EMA");

        // a sharded checkpoint is a teacher too (identified by its SHA256SUMS): distil this run into another nano
        List<String> data = a.subList(a.indexOf("gram.it-load-ema-teacher=1") + 1, a.size());
        Path second = tmp.resolve("from-sharded");
        List<String> b = new ArrayList<>(List.of(
                "distill",
                "--ranks",
                "1",
                "--teacher",
                ckpt.toString(),
                "--student-preset",
                "fmnist-pico",
                "--out",
                second.toString(),
                "--set",
                "model.arch=vit_nano",
                "--set",
                "train.batch-size=8",
                "--set",
                "train.max-steps=1"));
        b.addAll(data);
        CliTestSupport.Run fromSharded = CliTestSupport.main(b.toArray(String[]::new));
        assertEquals(0, fromSharded.code(), fromSharded.toString());
        assertEquals(
                dev.dinoj.trainer.train.DistillTeacher.sha256(ckpt.resolve("SHA256SUMS")),
                Files.readString(second.resolve("distill-teacher.sha256")).split("\\s+")[0]);

        // resuming the first run with another teacher stops before any rank starts, naming the key (exit 2)
        List<String> c = new ArrayList<>(a);
        c.set(c.indexOf("--teacher") + 1, ckpt.toString());
        c.add(1, "--resume");
        CliTestSupport.Run wrong = CliTestSupport.main(c.toArray(String[]::new));
        assertEquals(2, wrong.code(), wrong.toString());
        assertTrue(
                wrong.err().contains("dinoj.distill.teacher")
                        && wrong.err().contains("differ from those the run " + "started with"),
                wrong.toString());
        assertTrue(!Files.exists(out.resolve("checkpoints/step-00000004")), "nothing trained");
    }

    /**
     * SIGTERM to the launcher of {@code train --ranks 2} (a scheduler's preemption, Ctrl-C): it passes the signal on,
     * the ranks agree on the step to stop after, write a sharded checkpoint there and exit; the launcher exits 143
     * without crashing any JVM.
     */
    @Test
    @Timeout(400)
    void sigtermCheckpointsTheStepTheRanksReachedAndExits(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        Path log = tmp.resolve("launcher.log");
        Process launcher = launchAndAwaitSteps(tmp, out, log, 3, "--set", "checkpoint.every-steps=100000");
        try {
            launcher.destroy(); // SIGTERM
            assertTrue(launcher.waitFor(180, java.util.concurrent.TimeUnit.SECONDS), "the launcher did not exit");
            assertEquals(143, launcher.exitValue(), Files.readString(log));
            String rank0 = Files.readString(out.resolve("ranks/rank-0.log"));
            java.util.regex.Matcher m = java.util.regex.Pattern.compile(
                            "Stopped on a termination signal after step (\\d+)")
                    .matcher(rank0);
            assertTrue(m.find(), rank0);
            int stopped = Integer.parseInt(m.group(1));
            assertTrue(stopped >= 3, "stopped after step " + stopped);
            Path ckpt = out.resolve(String.format("checkpoints/step-%08d", stopped));
            assertEquals(
                    ckpt,
                    dev.dinoj.trainer.checkpoint.ShardedCheckpoints.latest(out).orElseThrow());
            dev.dinoj.trainer.checkpoint.ShardedCheckpoints.verify(ckpt);
            assertEquals(stopped, metrics(out).size(), "one metrics line per completed step");
            for (Path dir : List.of(tmp, out)) {
                try (var files = Files.list(dir)) {
                    assertEquals(
                            List.of(),
                            files.filter(f -> f.getFileName().toString().startsWith("hs_err"))
                                    .toList(),
                            "a JVM crashed on exit");
                }
            }
        } finally {
            launcher.descendants().forEach(ProcessHandle::destroyForcibly);
            launcher.destroyForcibly();
        }
    }

    /**
     * {@code kill -9} of the launching JVM leaves no rank behind: with UDP (a media driver per rank, so nothing else
     * would stop them) the ranks notice that their parent is gone and halt within seconds.
     */
    @Test
    @Timeout(300)
    void ranksStopWhenTheLauncherIsKilled(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("run");
        Path log = tmp.resolve("launcher.log");
        Process launcher = launchAndAwaitSteps(tmp, out, log, 1, "--set", "collectives.transport=udp");
        try {
            List<ProcessHandle> ranks =
                    launcher.descendants().filter(ProcessHandle::isAlive).toList();
            assertEquals(2, ranks.size(), "two rank JVMs: " + ranks);
            launcher.destroyForcibly().waitFor(); // SIGKILL: no shutdown hook runs
            long killed = System.currentTimeMillis();
            for (ProcessHandle r : ranks) {
                while (r.isAlive() && System.currentTimeMillis() - killed < 20_000) {
                    Thread.sleep(100);
                }
                assertTrue(!r.isAlive(), "rank pid " + r.pid() + " still runs 20 s after the launcher was killed");
            }
            assertTrue(Files.readString(out.resolve("ranks/rank-0.log")).contains("launching JVM"));
        } finally {
            launcher.descendants().forEach(ProcessHandle::destroyForcibly);
            launcher.destroyForcibly();
        }
    }

    /**
     * Starts {@code train --ranks 2} (endless) in a child launcher JVM and returns it once rank 0 has logged
     * {@code steps} steps; on failure the launcher and its ranks are killed.
     */
    private static Process launchAndAwaitSteps(Path tmp, Path out, Path log, int steps, String... more)
            throws Exception {
        List<String> a = new ArrayList<>(List.of(args(tmp, out, "--ranks", "2", "--set", "train.max-steps=100000")));
        a.addAll(List.of(more));
        Process launcher = CliTestSupport.childMain(tmp, log, a).start();
        try {
            long deadline = System.currentTimeMillis() + 240_000;
            Path metrics = out.resolve("metrics.jsonl");
            while (!Files.exists(metrics) || Files.readAllLines(metrics).size() < steps) {
                assertTrue(launcher.isAlive(), "launcher exited early:\n" + Files.readString(log));
                assertTrue(
                        System.currentTimeMillis() < deadline,
                        "no step " + steps + " within 240 s:\n" + Files.readString(log));
                Thread.sleep(100);
            }
            return launcher;
        } catch (Throwable t) {
            launcher.descendants().forEach(ProcessHandle::destroyForcibly);
            launcher.destroyForcibly();
            throw t;
        }
    }

    private static List<Long> toList(long[] a) {
        List<Long> l = new ArrayList<>();
        for (long x : a) {
            l.add(x);
        }
        return l;
    }
}
