package dev.dinoj.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.pipeline.image.PhotoFolders;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dinoj eval} and {@code dinoj report} on labelled photo folders ({@code --train-data folder:… --test-data
 * folder:…}): 3 classes of 320–640 px JPEG and PNG scenes through dinov2's evaluation transform, class names from the
 * folder names; and the bad inputs that must end in one line and exit 2.
 */
@Timeout(600)
class EvalPhotoFoldersCommandTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> CLASSES = List.of("circles", "rectangles", "triangles");

    @TempDir
    static Path photos;

    static Path train;
    static Path test;

    @BeforeAll
    static void writePhotos() {
        train = PhotoFolders.write(photos.resolve("train"), CLASSES, 7, 1);
        test = PhotoFolders.write(photos.resolve("test"), CLASSES, 3, 2);
    }

    private static CliTestSupport.Run main(String... args) {
        return CliTestSupport.main(args);
    }

    private static String[] eval(String protocol, String trainSpec, String testSpec, String... more) {
        List<String> a = new ArrayList<>(List.of("eval", protocol, "--train-data", trainSpec, "--test-data", testSpec));
        a.addAll(List.of(more));
        return a.toArray(new String[0]);
    }

    private static JsonNode json(CliTestSupport.Run r, String eval) throws Exception {
        List<String> lines = r.out()
                .lines()
                .filter(l -> l.startsWith("{\"eval\":\"" + eval + "\""))
                .collect(Collectors.toList());
        assertEquals(1, lines.size(), r::toString);
        return JSON.readTree(lines.get(0));
    }

    private static List<String> names(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    /** Exit 2 and a single line {@code error: …} on stderr containing every one of {@code parts}, no stack trace. */
    private static void assertOneLineError(CliTestSupport.Run r, String... parts) {
        assertEquals(2, r.code(), r::toString);
        List<String> lines = r.err().strip().lines().collect(Collectors.toList());
        assertEquals(1, lines.size(), r::toString);
        assertTrue(lines.get(0).startsWith("error: "), r::toString);
        for (String p : parts) {
            assertTrue(lines.get(0).contains(p), () -> "no '" + p + "' in: " + r);
        }
        assertFalse(r.all().contains("Exception"), r::toString);
    }

    @Test
    void knnAndLinearShouldRunOnPhotoFoldersAndNameTheClasses() throws Exception {
        String tr = "folder:" + train;
        String te = "folder:" + test;
        // raw pixels tell these classes apart (their hues differ; chance is 33 %): wrong labels would show here
        CliTestSupport.Run px = main(eval("knn", tr, te, "--raw-pixels", "--crop", "32", "--ks", "5", "--no-cache"));
        assertEquals(0, px.code(), px::toString);
        assertTrue(
                px.out()
                        .contains(
                                "train data: " + tr
                                        + ", 21 images, 3 classes (circles, rectangles, triangles), resize 37 + centre crop 32"),
                px::toString);
        assertTrue(px.out().contains("test data: " + te + ", 9 images, 3 classes"), px::toString);
        JsonNode k = json(px, "knn");
        assertEquals(CLASSES, names(k.get("classes")), k.toString());
        assertEquals(3, k.get("num_classes").asInt(), k.toString());
        assertEquals(21, k.get("n_train").asInt(), k.toString());
        assertEquals(9, k.get("n_test").asInt(), k.toString());
        assertEquals(tr, k.get("data").get("train").asText(), k.toString());
        assertEquals(te, k.get("data").get("test").asText(), k.toString());
        assertEquals(32, k.get("data").get("crop").asInt(), k.toString());
        assertTrue(k.get("k").get("5").get("top1").asDouble() >= 60, k.toString());

        // a test set with two of the three classes, matched to the training classes by name
        Path two =
                PhotoFolders.write(photos.resolve("test-two"), List.of("rectangles", "triangles"), List.of(1, 2), 3, 2);
        CliTestSupport.Run sub =
                main(eval("knn", tr, "folder:" + two, "--raw-pixels", "--crop", "32", "--ks", "5", "--no-cache"));
        assertEquals(0, sub.code(), sub::toString);
        JsonNode s = json(sub, "knn");
        assertEquals(6, s.get("n_test").asInt(), s.toString());
        assertEquals(CLASSES, names(s.get("classes")), s.toString());
        assertTrue(s.get("k").get("5").get("top1").asDouble() >= 60, s.toString());

        // a 16-px model: its own side is the crop, resized in dinov2's 256 : 224 ratio
        CliTestSupport.Run knn = main(eval(
                "knn", tr, te, "--random-init", "--config", "fmnist-pico", "--ks", "5", "--no-cache", "--batch", "8"));
        assertEquals(0, knn.code(), knn::toString);
        assertTrue(knn.out().contains("resize 18 + centre crop 16"), knn::toString);
        JsonNode kj = json(knn, "knn");
        assertEquals(16, kj.get("data").get("crop").asInt(), kj.toString());
        assertEquals(18, kj.get("data").get("resize").asInt(), kj.toString());

        CliTestSupport.Run lin = main(eval(
                "linear",
                tr,
                te,
                "--random-init",
                "--config",
                "fmnist-pico",
                "--learning-rates",
                "0.01,0.1",
                "--epochs",
                "2",
                "--no-cache"));
        assertEquals(0, lin.code(), lin::toString);
        JsonNode l = json(lin, "linear");
        assertEquals(CLASSES, names(l.get("classes")), l.toString());
        assertEquals(9, l.get("n_test").asInt(), l.toString());
    }

    @Test
    void everyOtherProtocolShouldTakePhotoFolders(@TempDir Path tmp) throws Exception {
        String tr = "folder:" + train;
        String te = "folder:" + test;
        String[] pixels = {
            "--raw-pixels", "--crop", "32", "--cache-dir", tmp.resolve("cache").toString()
        };
        CliTestSupport.Run lr =
                main(concat(eval("logreg", tr, te, "--c-steps", "2", "--c-min", "-2", "--max-iter", "30"), pixels));
        assertEquals(0, lr.code(), lr::toString);
        assertEquals(CLASSES, names(json(lr, "logreg").get("classes")));

        CliTestSupport.Run ret = main(
                concat(eval("retrieval", tr, te, "--queries", "3", "--copies", "1", "--distractors", "6"), pixels));
        assertEquals(0, ret.code(), ret::toString);
        assertEquals(te, json(ret, "retrieval").get("data").get("test").asText());

        CliTestSupport.Run dense = main(concat(eval("dense", tr, te, "--max-iter", "20"), pixels));
        assertEquals(0, dense.code(), dense::toString);
        assertEquals(32, json(dense, "dense").get("data").get("crop").asInt());

        CliTestSupport.Run rob = main(concat(
                eval("robustness", tr, te, "--corruptions", "noise,blur", "--severities", "1", "--epochs", "1"),
                pixels));
        assertEquals(0, rob.code(), rob::toString);
        assertEquals(2, json(rob, "robustness").get("sets").size());
    }

    private static String[] concat(String[] a, String[] b) {
        List<String> out = new ArrayList<>(List.of(a));
        out.addAll(List.of(b));
        return out.toArray(new String[0]);
    }

    @Test
    void reportShouldShowTheClassNamesOfPhotoFolders(@TempDir Path tmp) throws Exception {
        Path images = CliTestSupport.writeIdxImages(tmp.resolve("images-idx3-ubyte"), 64, 28, 5);
        Path run = tmp.resolve("pico");
        CliTestSupport.Run trained = main(
                "train",
                "--config",
                "fmnist-pico",
                "--set",
                "train.max-steps=2",
                "--set",
                CliTestSupport.idxDataset(images),
                "--set",
                "data.loader-threads=1",
                "--out",
                run.toString());
        assertEquals(0, trained.code(), trained::toString);
        String tr = "folder:" + train;
        String te = "folder:" + test;
        CliTestSupport.Run knn = main(eval("knn", tr, te, "--checkpoint", run.toString(), "--ks", "5"));
        assertEquals(0, knn.code(), knn::toString);
        assertTrue(knn.out().contains("recorded in"), knn::toString);

        CliTestSupport.Run rep = main(
                "report",
                run.toString(),
                "--train-data",
                tr,
                "--test-data",
                te,
                "--pca-images",
                "2",
                "--queries",
                "2",
                "--neighbours",
                "3");
        assertEquals(0, rep.code(), rep::toString);
        assertTrue(rep.out().contains("classes: circles, rectangles, triangles"), rep::toString);
        assertTrue(rep.out().contains("k-NN top-1 (k=20) at step 2"), rep::toString);
        String page = Files.readString(run.resolve("report/index.html"));
        for (String c : CLASSES) {
            assertTrue(page.contains("<tr><td>" + c + "</td><td>3</td>"), c + " in the per-class table:\n" + page);
        }
        assertTrue(page.contains("3: circles, rectangles, triangles"), "the overview lists the classes");
        assertTrue(page.contains("test data " + te), "the evaluation table names the data of the recorded k-NN");
    }

    @Test
    void badDataShouldEndInOneLineNamingItWithExitCode2(@TempDir Path tmp) throws Exception {
        String tr = "folder:" + train;
        String te = "folder:" + test;

        Path withEmpty = PhotoFolders.write(tmp.resolve("with-empty"), CLASSES, 1, 3);
        Path empty = Files.createDirectories(withEmpty.resolve("squares"));
        assertOneLineError(
                main(eval("knn", "folder:" + withEmpty, te, "--raw-pixels")),
                "--train-data",
                empty.toString(),
                "class folder without images");

        assertOneLineError(
                main(eval("knn", tr, "folder:" + withEmpty, "--raw-pixels")),
                "--test-data",
                empty.toString(),
                "class folder without images");

        Path missing = tmp.resolve("no-test-folder-here");
        assertOneLineError(
                main(eval("linear", tr, "folder:" + missing, "--raw-pixels")), "--test-data", missing.toString());
        Path runDir = Files.createDirectories(tmp.resolve("run"));
        Files.writeString(runDir.resolve("metrics.jsonl"), "");
        assertOneLineError(
                main("report", runDir.toString(), "--train-data", tr, "--test-data", "folder:" + missing),
                "--test-data",
                missing.toString());

        Path flat = Files.createDirectories(tmp.resolve("flat"));
        Files.copy(train.resolve("circles/000.png"), flat.resolve("000.png"));
        assertOneLineError(main(eval("knn", "folder:" + flat, te, "--raw-pixels")), flat.toString(), "no class");

        Path other = PhotoFolders.write(tmp.resolve("other"), List.of("circles", "stars"), 1, 4);
        assertOneLineError(main(eval("knn", tr, "folder:" + other, "--raw-pixels")), "--test-data", "\"stars\"");

        assertOneLineError(main("eval", "knn", "--raw-pixels", "--test-data", te), "--test-data needs --train-data");
        assertOneLineError(main(eval("knn", "photos/", te, "--raw-pixels")), "--train-data photos/", "folder:DIR");
        assertOneLineError(
                main(eval("knn", tr, te, "--random-init", "--config", "fmnist-pico", "--crop", "30")),
                "--crop 30",
                "patch size");
        assertOneLineError(main(eval("knn", tr, te, "--raw-pixels", "--resize", "20", "--crop", "32")), "--resize 20");
    }
}
