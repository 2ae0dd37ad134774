package dev.dinoj.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.testkit.FashionMnist;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Smoke test of {@code dinoj eval knn} on a 3-step fmnist-pico checkpoint. */
class EvalKnnCommandTest {

    @Test
    void knnOfAPicoCheckpointPrintsAJsonLine(@TempDir Path tmp) throws Exception {
        FashionMnist.assumeInstalled();
        Path images = CliTestSupport.writeIdxImages(tmp.resolve("images-idx3-ubyte"), 64, 28, 5);
        Path runDir = tmp.resolve("pico");
        CliTestSupport.Run train = CliTestSupport.main(
                "train",
                "--config",
                "fmnist-pico",
                "--set",
                "train.max-steps=3",
                "--set",
                CliTestSupport.idxDataset(images),
                "--set",
                "data.loader-threads=1",
                "--out",
                runDir.toString());
        assertEquals(0, train.code(), train::toString);

        CliTestSupport.Run r = CliTestSupport.main(
                "eval",
                "knn",
                "--checkpoint",
                runDir.toString(),
                "--train-limit",
                "200",
                "--test-limit",
                "50",
                "--ks",
                "10,20");
        assertEquals(0, r.code(), r::toString);
        List<String> json =
                r.out().lines().filter(l -> l.startsWith("{\"eval\":\"knn\"")).collect(Collectors.toList());
        assertEquals(1, json.size(), r::toString);
        JsonNode j = new ObjectMapper().readTree(json.get(0));
        assertEquals(200, j.get("n_train").asInt(), json.get(0));
        assertEquals(50, j.get("n_test").asInt(), json.get(0));
        assertEquals(10, j.get("num_classes").asInt(), json.get(0));
        assertEquals(List.of("10", "20"), iterable(j.get("k").fieldNames()), json.get(0));
        for (String k : new String[] {"10", "20"}) {
            double top1 = j.get("k").get(k).get("top1").asDouble();
            double top5 = j.get("k").get(k).get("top5").asDouble();
            assertTrue(top1 >= 0 && top1 <= top5 && top5 <= 100, json.get(0));
        }

        CliTestSupport.Run only = CliTestSupport.main(
                "eval",
                "knn",
                "--checkpoint",
                runDir.toString(),
                "--train-limit",
                "200",
                "--test-limit",
                "50",
                "--ks",
                "10,20",
                "--no-record",
                "--json");
        assertEquals(0, only.code(), only::toString);
        assertEquals(1, only.out().strip().lines().count(), "--json: stdout is the JSON line alone: " + only);
        assertEquals(j.get("k"), new ObjectMapper().readTree(only.out()).get("k"), "the same result");
        assertTrue(only.err().contains("model: "), "the rest on stderr: " + only);
    }

    @Test
    void knnWithoutAModelIsAUserError() {
        CliTestSupport.Run r = CliTestSupport.main("eval", "knn", "--train-limit", "10");
        assertEquals(2, r.code(), r::toString);
        assertTrue(r.err().contains("--checkpoint"), r::toString);
    }

    @Test
    void knnWithAMissingFashionMnistDirNamesIt(@TempDir Path tmp) {
        Path missing = tmp.resolve("no-fashion-mnist-here");
        CliTestSupport.Run r =
                CliTestSupport.main("eval", "knn", "--raw-pixels", "--fashion-mnist-dir", missing.toString());
        assertEquals(2, r.code(), r::toString);
        assertTrue(r.err().contains(missing.toString()), r::toString);
        assertFalse(Files.exists(missing));
    }

    private static List<String> iterable(java.util.Iterator<String> it) {
        List<String> out = new java.util.ArrayList<>();
        it.forEachRemaining(out::add);
        return out;
    }
}
