package dev.dinoj.evaluation.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import akka.actor.ActorSystem;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.evaluation.EvalTestData;
import dev.dinoj.evaluation.features.EvalDataset;
import dev.dinoj.evaluation.features.ModelSource;
import dev.dinoj.evaluation.results.EvalLog;
import dev.dinoj.evaluation.transform.DatasetViews;
import dev.dinoj.pipeline.curate.CurateJob;
import dev.dinoj.pipeline.curate.CurationSettings;
import dev.dinoj.pipeline.embed.PixelEmbedder;
import dev.dinoj.pipeline.ingest.DatasetUpload;
import dev.dinoj.pipeline.ingest.ImageEncoding;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import dev.dinoj.trainer.checkpoint.Checkpoints;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.train.TrainingRun;
import java.awt.image.BufferedImage;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report of a 6-step fmnist-pico run on 128 Fashion-MNIST images: every figure is written and readable, the
 * page references them, and (when a Chromium is installed) headless Chromium renders the page with every image
 * loaded and a non-blank screenshot.
 */
class ReportTest {

    @TempDir
    static Path tmp;

    static Path run;
    static Report.Result result;

    static final List<String> FIGURES = List.of(
            "loss-total-loss",
            "loss-dino-local-crops-loss",
            "loss-dino-global-crops-loss",
            "loss-ibot-loss",
            "loss-koleo-loss",
            "schedule-lr",
            "schedule-wd",
            "schedule-momentum",
            "schedule-teacher-temp",
            "knn-curve",
            "pca",
            "neighbours",
            "curated-clusters");

    @BeforeAll
    static void trainAndReport() throws Exception {
        EvalDataset train = EvalTestData.train();
        EvalDataset test = EvalTestData.test();
        run = tmp.resolve("run");
        TrainSettings s = TrainSettings.load(
                "fmnist-pico", List.of("train.max-steps=6", "checkpoint.every-steps=3", "data.loader-threads=1"));
        new TrainingRun(s, run, false, null)
                .withDataset(DatasetViews.first(train.images(), 128))
                .run();
        assertEquals(2, Checkpoints.list(run).size());
        // a recorded evaluation, as `dinoj eval linear` appends it
        EvalLog.append(
                run,
                ModelSource.checkpoint(run),
                "{\"eval\":\"linear\",\"features\":\"last-blocks\","
                        + "\"n_train\":90,\"best\":{\"name\":\"classifier_2_blocks_avgpool_True_lr_0_00050\",\"val_top1\":50.0},"
                        + "\"test\":{\"top1\":42.5}}");
        // the curated dataset the run "trained on": 300 labelled Fashion-MNIST images in a local pool, curated around
        // 10 query images of trousers (label 1) to 120 images
        ActorSystem system = ObjectStores.createSystem("ReportTest", ConfigFactory.load(), StorageSettings.defaults());
        try (ObjectStores.Location pool =
                        ObjectStores.open(StorageUri.of(tmp.resolve("pool")), StorageSettings.defaults(), system);
                ObjectStores.Location queries =
                        ObjectStores.open(StorageUri.of(tmp.resolve("queries")), StorageSettings.defaults(), system)) {
            DatasetUpload.upload(system, pool, train.images(), 300, 4, null);
            int[] trousers = java.util.stream.IntStream.range(0, 1000)
                    .filter(i -> test.images().label(i) == 1)
                    .limit(10)
                    .toArray();
            for (int i : trousers) {
                queries.store()
                        .put(
                                DatasetUpload.keyOf(queries, i, 1),
                                ImageEncoding.png(test.images().image(i)),
                                "image/png")
                        .toCompletableFuture()
                        .join();
            }
            CurateJob.run(
                    system,
                    new CurateJob.Spec(
                            StorageUri.of(tmp.resolve("pool")),
                            StorageUri.of(tmp.resolve("queries")),
                            StorageUri.of(run.resolve("curated")),
                            tmp.resolve("curate-work"),
                            120),
                    new PixelEmbedder(28),
                    CurationSettings.defaults().withRetrieval(5, 5, 0),
                    StorageSettings.defaults(),
                    null,
                    null);
        } finally {
            ObjectStores.terminate(system);
        }
        Report.Options o = new Report.Options(
                run,
                run.resolve("report"),
                train,
                test,
                300,
                100,
                6,
                128,
                4,
                0,
                3,
                4,
                null,
                Report.FASHION_MNIST_CLASSES);
        result = new Report(o, null).write();
    }

    @Test
    void shouldWriteEveryFigureAsAReadablePng() throws Exception {
        for (String id : FIGURES) {
            Path png = result.figures().get(id);
            assertNotNull(
                    png, "figure " + id + " missing; have " + result.figures().keySet());
            BufferedImage img = ImageIO.read(png.toFile());
            assertNotNull(img, png + " is not a PNG");
            assertTrue(
                    img.getWidth() > 50 && img.getHeight() > 50, png + " is " + img.getWidth() + "x" + img.getHeight());
            assertTrue(nonWhiteShare(img) > 0.01, png + " is blank");
        }
        // k-NN curve: random init (step 0) and both checkpoints
        assertEquals(List.of(0L, 3L, 6L), new ArrayList<>(result.knn().keySet()));
        for (double v : result.knn().values()) {
            assertTrue(v >= 0 && v <= 100);
        }
        assertTrue(result.pixelKnn() > 50, "raw pixels k-NN on 300 images: " + result.pixelKnn());
        assertTrue(result.curationSection());
    }

    @Test
    void aCheckpointIsIdentifiedByItsTeacherChecksum() throws Exception {
        ModelSource src = ModelSource.checkpoint(run);
        assertEquals(6, src.step());
        java.security.MessageDigest md = java.security.MessageDigest.getInstance("SHA-256");
        String sha = java.util.HexFormat.of()
                .formatHex(md.digest(Files.readAllBytes(src.path().resolve("teacher.safetensors"))));
        assertTrue(src.id().startsWith("teacher-sha256:" + sha + "|"), src.id());
        assertTrue(!src.id()
                .equals(ModelSource.checkpoint(Checkpoints.list(run).get(0)).id()));
    }

    @Test
    void pageShouldReferenceEveryFigureAndTheRecordedResult() throws Exception {
        String html = Files.readString(result.html(), StandardCharsets.UTF_8);
        for (String id : FIGURES) {
            assertTrue(html.contains("id=\"fig-" + id + "\""), "figure " + id + " not on the page");
            assertTrue(html.contains("src=\"" + result.figures().get(id).getFileName() + "\""));
        }
        assertTrue(html.contains("classifier_2_blocks_avgpool_True_lr_0_00050"), "the recorded linear result");
        assertTrue(html.contains("top-1 42.50 %"));
        assertTrue(html.contains("Curated data"), "the run's curated dataset is described");
        assertTrue(html.contains("<td>ingested</td><td>300</td>"), "every pool object's state");
        Matcher retrieval =
                Pattern.compile("<b>([0-9.]+) %</b> have the query's class").matcher(html);
        assertTrue(retrieval.find(), "retrieval precision traced through the keys");
        assertTrue(
                Double.parseDouble(retrieval.group(1)) >= 70,
                "trouser queries retrieve trousers: " + retrieval.group(1));
        // the features of the k-NN curve are cached: a second report does not extract again
        long cached;
        try (var s = Files.list(run.resolve("eval/cache"))) {
            cached = s.count();
        }
        assertTrue(cached >= 7, "cache entries: " + cached);
    }

    @Test
    void headlessChromiumShouldRenderThePageWithAllImagesLoaded() throws Exception {
        String chromium = chromium();
        assumeTrue(chromium != null, "no chromium on PATH (apt-get install -y chromium)");
        Path profile = Files.createTempDirectory(tmp, "chromium-profile");
        Path shot = tmp.resolve("report.png");
        String url = result.html().toUri().toString();
        List<String> common = List.of(
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--user-data-dir=" + profile,
                "--allow-file-access-from-files",
                "--virtual-time-budget=10000");
        List<String> dump = new ArrayList<>(common);
        dump.add("--dump-dom");
        dump.add(url);
        String dom = runProcess(dump);
        Matcher m = Pattern.compile("data-images-ok=\"(\\d+)/(\\d+)\"").matcher(dom);
        assertTrue(m.find(), "the page script did not run; DOM:\n" + dom.substring(0, Math.min(2000, dom.length())));
        assertEquals(m.group(2), m.group(1), "images loaded / on the page");
        assertEquals(result.figures().size(), Integer.parseInt(m.group(2)));
        assertFalse(dom.contains("data-ok=\"0\""), "an image failed to load");

        List<String> screenshot = new ArrayList<>(common);
        screenshot.add("--window-size=1400,6000");
        screenshot.add("--screenshot=" + shot);
        screenshot.add(url);
        runProcess(screenshot);
        BufferedImage img = ImageIO.read(shot.toFile());
        assertNotNull(img, "no screenshot written");
        assertTrue(nonWhiteShare(img) > 0.02, "screenshot is blank");
    }

    private static String runProcess(List<String> cmd) throws Exception {
        Path out = Files.createTempFile(tmp, "chromium", ".out");
        Process p = new ProcessBuilder(cmd)
                .redirectErrorStream(false)
                .redirectOutput(out.toFile())
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("chromium did not finish in 120 s: " + cmd);
        }
        return Files.readString(out, StandardCharsets.UTF_8);
    }

    /** A Chromium executable on the PATH (or $DINOJ_CHROMIUM), or null. */
    static String chromium() {
        String env = System.getenv("DINOJ_CHROMIUM");
        if (env != null && new File(env).canExecute()) {
            return env;
        }
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            for (String name : new String[] {"chromium", "chromium-browser", "google-chrome", "chrome"}) {
                File f = new File(dir, name);
                if (f.canExecute()) {
                    return f.getAbsolutePath();
                }
            }
        }
        return null;
    }

    static double nonWhiteShare(BufferedImage img) {
        long non = 0;
        for (int y = 0; y < img.getHeight(); y += 2) {
            for (int x = 0; x < img.getWidth(); x += 2) {
                int rgb = img.getRGB(x, y) & 0xffffff;
                if (rgb != 0xffffff) {
                    non++;
                }
            }
        }
        return non / (double) (((img.getHeight() + 1) / 2) * ((img.getWidth() + 1) / 2));
    }
}
