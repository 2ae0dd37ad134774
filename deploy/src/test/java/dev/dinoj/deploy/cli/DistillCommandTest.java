package dev.dinoj.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.testkit.FashionMnist;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dinoj distill}: the paper's distillation ablation in miniature — a nano student (ViT 32×2) distilled from a
 * trained pico teacher (ViT 64×2, committed as a trimmed checkpoint under {@code src/test/resources/distill/}) has
 * better k-NN features than the same student trained from scratch with DINOv2 for the same number of steps. The
 * teacher is {@code fmnist-pico} at batch 64 trained for 2453 steps (15 minutes, 66.5 % k-NN on the subsets used here):
 * {@code ./dinoj train --config fmnist-pico --set train.batch-size=64 --set train.epoch-length=100 --set optim.epochs=30}
 * ({@code teacher.safetensors}, {@code state.json}, {@code config.conf} and their checksums of its last checkpoint).
 */
class DistillCommandTest {

    /**
     * Both students: ViT 32×2, batch 32, 300 steps (the whole schedule: 10 epochs of 30 steps). The EMA momentum is
     * 0.9 throughout: with the default 0.992 → 1 cosine a 300-step EMA still holds ~30 % of the random initialisation,
     * which hides what the students learnt (both runs use the same setting).
     */
    private static final int STEPS = 300;

    private static final String[] STUDENT = {
        "--set",
        "model.arch=vit_nano",
        "--set",
        "train.batch-size=32",
        "--set",
        "train.max-steps=" + STEPS,
        "--set",
        "train.epoch-length=" + STEPS / 10,
        "--set",
        "teacher.momentum-teacher=0.9",
        "--set",
        "teacher.final-momentum-teacher=0.9",
        "--set",
        "checkpoint.every-steps=" + STEPS,
        "--set",
        "train.log-every=100",
        "--set",
        "data.loader-threads=2"
    };

    static Path teacher() throws URISyntaxException {
        return Path.of(DistillCommandTest.class
                        .getResource("/distill/pico-teacher/state.json")
                        .toURI())
                .getParent();
    }

    private static double knn20(Path run) throws Exception {
        CliTestSupport.Run r = CliTestSupport.main(
                "eval",
                "knn",
                "--checkpoint",
                run.toString(),
                "--train-limit",
                "3000",
                "--test-limit",
                "1000",
                "--ks",
                "20");
        assertEquals(0, r.code(), r::toString);
        String json = r.out()
                .lines()
                .filter(l -> l.startsWith("{\"eval\":\"knn\""))
                .findFirst()
                .orElseThrow();
        JsonNode j = new ObjectMapper().readTree(json);
        return j.get("k").get("20").get("top1").asDouble();
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void distilledStudentBeatsTheSameStudentTrainedFromScratch(@TempDir Path tmp) throws Exception {
        FashionMnist.assumeInstalled();
        Path distilled = tmp.resolve("distilled");
        CliTestSupport.Run d = CliTestSupport.main(concat(
                new String[] {
                    "distill",
                    "--teacher",
                    teacher().toString(),
                    "--student-preset",
                    "fmnist-pico",
                    "--out",
                    distilled.toString()
                },
                STUDENT));
        assertEquals(0, d.code(), d::toString);
        Path scratch = tmp.resolve("scratch");
        CliTestSupport.Run s = CliTestSupport.main(
                concat(new String[] {"train", "--config", "fmnist-pico", "--out", scratch.toString()}, STUDENT));
        assertEquals(0, s.code(), s::toString);

        String conf = Files.readString(distilled.resolve("config.conf"));
        assertTrue(conf.contains("vit_nano") && conf.contains("pico-teacher"), conf);
        double kd = knn20(distilled);
        double ks = knn20(scratch);
        System.out.printf("k-NN top-1 (k = 20, 3000 train / 1000 test): distilled %.2f, from scratch %.2f%n", kd, ks);
        // measured 61.3 vs 57.6 (2026-11-26); random initialisation gives 54.5, the teacher 66.5
        assertTrue(kd > ks + 1.0, "distilled " + kd + " vs from scratch " + ks);
    }

    @Test
    void badInputIsAOneLineErrorNamingTheKey(@TempDir Path tmp) throws Exception {
        CliTestSupport.Run missing = CliTestSupport.main(
                "distill",
                "--teacher",
                tmp.resolve("nope").toString(),
                "--student-preset",
                "fmnist-pico",
                "--out",
                tmp.resolve("o").toString());
        assertEquals(2, missing.code(), missing::toString);
        assertTrue(
                missing.err().contains("dinoj.distill.teacher") && missing.err().contains("nope"), missing::toString);

        CliTestSupport.Run dropPath = CliTestSupport.main(
                "distill",
                "--teacher",
                teacher().toString(),
                "--student-preset",
                "fmnist-tiny",
                "--set",
                "model.drop-path-rate=0.1",
                "--out",
                tmp.resolve("o").toString());
        assertEquals(2, dropPath.code(), dropPath::toString);
        assertTrue(dropPath.err().contains("dinoj.model.drop-path-rate"), dropPath::toString);

        CliTestSupport.Run patch = CliTestSupport.main(
                "distill",
                "--teacher",
                teacher().toString(),
                "--student-preset",
                "fmnist-pico",
                "--set",
                "model.patch-size=8",
                "--out",
                tmp.resolve("o").toString());
        assertEquals(2, patch.code(), patch::toString);
        assertTrue(patch.err().contains("dinoj.model.patch-size"), patch::toString);

        CliTestSupport.Run help = CliTestSupport.main("distill", "--help");
        assertEquals(0, help.code(), help::toString);
        assertTrue(help.out().contains("--teacher") && help.out().contains("--student-preset"), help::toString);
    }

    @Test
    void theStudentPresetsStochasticDepthIsTurnedOff() {
        // fmnist-tiny trains with drop-path 0.1; distilling into it runs without
        List<String> sets = DistillCommand.sets(Path.of("/nonexistent.safetensors"), List.of(), 3.0);
        var settings = dev.dinoj.trainer.config.TrainSettings.load("fmnist-tiny", sets);
        assertEquals(0.0, settings.ssl().backbone().dropPathRate());
        assertEquals(3.0, settings.loop().maxMinutes());
        assertTrue(settings.distill().teacher().isAbsolute());
    }
}
