package dev.dinoj.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dinoj demo} end to end, small: loopback S3, upload with planted dirt, curation, a few pico steps on the
 * curated set, k-NN, report — on the Fashion-MNIST subset shipped in the jar (the --fashion-mnist-dir given is empty),
 * as on a fresh machine without the Debian package.
 */
@Timeout(600)
class DemoCommandTest {

    @Test
    void shouldRunTheWholePipelineOnTheShippedSubset(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("demo");
        Files.createDirectories(tmp.resolve("no-fmnist"));
        CliTestSupport.Run r = CliTestSupport.main(
                "demo",
                "--minutes",
                "0.1", // the default preset, fmnist-fast
                "--set",
                "checkpoint.every-steps=3",
                "--pool",
                "600",
                "--queries-per-class",
                "5",
                "--target-size",
                "300",
                "--eval-train",
                "500",
                "--eval-test",
                "200",
                "--fashion-mnist-dir",
                tmp.resolve("no-fmnist").toString(),
                "--out",
                out.toString());
        assertEquals(0, r.code(), r::toString);
        assertTrue(r.out().contains("using the 5,000 + 1,000 image subset shipped with dinoj"), r::toString);
        for (int stage = 1; stage <= 6; stage++) {
            assertTrue(r.out().contains("== " + stage + "/6 "), "stage " + stage + " banner\n" + r);
        }

        ObjectMapper json = new ObjectMapper();
        JsonNode summary = json.readTree(out.resolve("demo-summary.json").toFile());
        // 600 pool images + 6 near copies + 3 exact copies + 20 noise + 3 empty + 3 truncated + 3 text + 1 archive
        assertEquals(639, summary.get("pool_objects").asInt(), summary::toString);
        assertEquals(300, summary.get("curated").asInt(), summary::toString);
        assertTrue(summary.get("steps").asInt() >= 1, summary::toString);
        double pixels = summary.get("knn_top1_k20").get("raw_pixels").asDouble();
        assertTrue(pixels > 60, "raw-pixel k-NN on 500 Fashion-MNIST images: " + pixels);

        // every object accounted for in the curated set's summary, with the planted states
        JsonNode states =
                json.readTree(out.resolve("curated/summary.json").toFile()).get("states");
        long total = 0;
        for (JsonNode n : states) {
            total += n.asLong();
        }
        assertEquals(639 - 1 + 200, total, "objects + archive members (the archive itself is expanded): " + states);
        assertEquals(3, states.get("exact_duplicate").asInt(), states::toString);
        assertEquals(6, states.get("corrupt").asInt(), states::toString);
        assertEquals(3, states.get("not_an_image").asInt(), states::toString);
        assertTrue(states.get("near_duplicate").asInt() >= 5, states::toString);

        // the report exists with the curated-data figure; the k-NN was recorded for its evaluation table
        String html = Files.readString(out.resolve("report/index.html"));
        assertTrue(html.contains("Curated data") && Files.isRegularFile(out.resolve("report/curated-clusters.png")));
        assertTrue(Files.readString(out.resolve("eval/results.jsonl")).contains("\"eval\":\"knn\""));
    }
}
