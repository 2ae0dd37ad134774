package dev.dinoj.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.deploy.errors.UserError;
import dev.dinoj.testkit.FashionMnist;
import dev.dinoj.testkit.StdStreams;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Smoke tests of the new evaluation commands and {@code dinoj report} on small subsets (they are run through
 * picocli directly until the lead wires them into {@code Main} / {@code EvalCommand}).
 */
class EvalProtocolCommandsTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    record Out(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout ---\n" + out + "\n--- stderr ---\n" + err;
        }
    }

    static Out run(Object command, String... args) {
        StdStreams.Captured<Integer> c = StdStreams.capture(() -> {
            CommandLine cl = new CommandLine(command);
            cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
                if (ex instanceof UserError) {
                    cmd.getErr().println("error: " + ex.getMessage());
                    return 2;
                }
                throw ex;
            });
            return cl.execute(args);
        });
        return new Out(c.value(), c.out(), c.err());
    }

    static JsonNode json(Out o, String eval) throws Exception {
        List<String> lines = o.out()
                .lines()
                .filter(l -> l.startsWith("{\"eval\":\"" + eval + "\""))
                .collect(Collectors.toList());
        assertEquals(1, lines.size(), o::toString);
        return JSON.readTree(lines.get(0));
    }

    @Test
    void protocolsShouldRunOnRawPixels(@TempDir Path tmp) throws Exception {
        FashionMnist.assumeInstalled();
        String cache = tmp.resolve("cache").toString();
        Out lin = run(
                new EvalLinearCommand(),
                "--raw-pixels",
                "--train-limit",
                "500",
                "--test-limit",
                "100",
                "--learning-rates",
                "0.01,0.1",
                "--epochs",
                "2",
                "--cache-dir",
                cache);
        assertEquals(0, lin.code(), lin::toString);
        assertTrue(json(lin, "linear").get("test").get("top1").asDouble() > 40, lin::toString);

        Out lr = run(
                new EvalLogregCommand(),
                "--raw-pixels",
                "--train-limit",
                "300",
                "--test-limit",
                "100",
                "--c-steps",
                "3",
                "--c-min",
                "-3",
                "--c-max",
                "0",
                "--max-iter",
                "50",
                "--cache-dir",
                cache);
        assertEquals(0, lr.code(), lr::toString);
        assertEquals(3, json(lr, "logreg").get("sweep").size());

        Out ret = run(
                new EvalRetrievalCommand(),
                "--raw-pixels",
                "--queries",
                "10",
                "--copies",
                "2",
                "--distractors",
                "50",
                "--cache-dir",
                cache);
        assertEquals(0, ret.code(), ret::toString);
        assertEquals(70, json(ret, "retrieval").get("database").asInt());

        Out dense = run(
                new EvalDenseCommand(),
                "--raw-pixels",
                "--train-limit",
                "50",
                "--test-limit",
                "20",
                "--max-iter",
                "30",
                "--cache-dir",
                cache);
        assertEquals(0, dense.code(), dense::toString);
        assertTrue(json(dense, "dense").get("mIoU").asDouble() > 50, dense::toString);

        Out rob = run(
                new EvalRobustnessCommand(),
                "--raw-pixels",
                "--train-limit",
                "300",
                "--test-limit",
                "50",
                "--corruptions",
                "noise,jpeg",
                "--severities",
                "1",
                "--epochs",
                "1",
                "--cache-dir",
                cache);
        assertEquals(0, rob.code(), rob::toString);
        assertEquals(2, json(rob, "robustness").get("sets").size());
    }

    @Test
    void badArgumentsAreUserErrors() {
        Out none = run(new EvalLinearCommand(), "--train-limit", "10");
        assertEquals(2, none.code(), none::toString);
        assertTrue(none.err().contains("--checkpoint"), none::toString);
        Out weights = run(new EvalLogregCommand(), "--weights", "x.safetensors");
        assertEquals(2, weights.code(), weights::toString);
        assertTrue(weights.err().contains("x.safetensors: no such file"), weights::toString);
        Out kind = run(new EvalRetrievalCommand(), "--random-init", "--config", "fmnist-pico", "--features", "nope");
        assertEquals(2, kind.code(), kind::toString);
        Out report = run(new ReportCommand(), "/nonexistent/run");
        assertEquals(2, report.code(), report::toString);
    }

    @Test
    void evalOfACheckpointIsRecordedAndTheReportShowsIt(@TempDir Path tmp) throws Exception {
        FashionMnist.assumeInstalled();
        Path images = CliTestSupport.writeIdxImages(tmp.resolve("images-idx3-ubyte"), 64, 28, 5);
        Path runDir = tmp.resolve("pico");
        CliTestSupport.Run train = CliTestSupport.main(
                "train",
                "--config",
                "fmnist-pico",
                "--set",
                "train.max-steps=4",
                "--set",
                "checkpoint.every-steps=2",
                "--set",
                CliTestSupport.idxDataset(images),
                "--set",
                "data.loader-threads=1",
                "--out",
                runDir.toString());
        assertEquals(0, train.code(), train::toString);

        Out lin = run(
                new EvalLinearCommand(),
                "--checkpoint",
                runDir.toString(),
                "--train-limit",
                "300",
                "--test-limit",
                "100",
                "--epochs",
                "2");
        assertEquals(0, lin.code(), lin::toString);
        assertTrue(lin.out().contains("recorded in"), lin::toString);
        assertTrue(Files.isRegularFile(runDir.resolve("eval/results.jsonl")));
        assertTrue(Files.list(runDir.resolve("eval/cache")).count() >= 2, "features cached under RUN/eval/cache");

        Out rep = run(
                new ReportCommand(),
                runDir.toString(),
                "--knn-train",
                "200",
                "--knn-test",
                "50",
                "--pca-images",
                "3",
                "--queries",
                "2",
                "--neighbours",
                "3");
        assertEquals(0, rep.code(), rep::toString);
        Path html = runDir.resolve("report/index.html");
        assertTrue(Files.isRegularFile(html), rep::toString);
        String page = Files.readString(html);
        assertTrue(
                page.contains("linear") && page.contains("fig-knn-curve") && page.contains("fig-pca"), rep::toString);
    }
}
