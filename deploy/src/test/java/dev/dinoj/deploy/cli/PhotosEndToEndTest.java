package dev.dinoj.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.pipeline.curate.CuratedDataset;
import dev.dinoj.pipeline.curate.CuratedIndexEntry;
import dev.dinoj.pipeline.image.PhotoFolders;
import dev.dinoj.pipeline.image.SyntheticPhotos;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The photo path of docs/TRAINING.md "Photos, end to end", as a user runs it: labelled folders of 320–640 px JPEG and
 * PNG scenes plus a 4000 × 3000 photo, a CMYK JPEG and an EXIF-rotated one → {@code curate} from the folder (large
 * images stored re-encoded) → {@code train --config vits14} (ViT-S/14, 224/98 crops, the official heads) a few small
 * steps in one JVM and with {@code --ranks 2} → {@code eval knn} on the folders by class name → {@code report}; and the
 * same photos uploaded to the loopback S3 ({@code ingest}), curated from the bucket and trained on.
 */
@Timeout(1500)
class PhotosEndToEndTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> CLASSES = List.of("circles", "rectangles", "triangles");

    static void ok(CliTestSupport.Run r) {
        assertEquals(0, r.code(), r::toString);
    }

    static JsonNode lastJson(CliTestSupport.Run r) throws Exception {
        String line = r.out()
                .lines()
                .filter(l -> l.startsWith("{"))
                .reduce((a, b) -> b)
                .orElseThrow();
        return JSON.readTree(line);
    }

    @Test
    void photosThroughCurateTrainVits14EvalAndReport(@TempDir Path tmp) throws Exception {
        Path train = PhotoFolders.write(tmp.resolve("photos/train"), CLASSES, 4, 1);
        Files.write(
                train.resolve("circles/big.jpg"),
                SyntheticPhotos.jpeg(SyntheticPhotos.scene(4000, 3000, 0, 9), 0.9f, false));
        Files.write(train.resolve("rectangles/cmyk.jpg"), SyntheticPhotos.cmykJpeg(800, 600));
        Files.write(
                train.resolve("triangles/rotated.jpg"),
                SyntheticPhotos.withExifOrientation(
                        SyntheticPhotos.jpeg(SyntheticPhotos.scene(640, 480, 2, 3), 0.9f, false), 6));
        Path test = PhotoFolders.write(tmp.resolve("photos/test"), CLASSES, 2, 2);

        Path curated = tmp.resolve("curated");
        ok(CliTestSupport.main(
                "curate",
                "--source",
                train.toString(),
                "--out",
                curated.toString(),
                "--work",
                tmp.resolve("w").toString()));
        try (CuratedDataset ds = CuratedDataset.open(curated)) {
            CuratedIndexEntry big = null;
            for (int i = 0; i < ds.size(); i++) {
                if (ds.entry(i).key().endsWith("circles/big.jpg")) {
                    big = ds.entry(i);
                }
            }
            assertTrue(big != null, "the 4000 x 3000 photo is curated");
            assertEquals(
                    new CuratedIndexEntry.Source("jpeg", Files.size(train.resolve("circles/big.jpg")), 4000, 3000),
                    big.source());
            assertEquals(512, big.height(), "stored at curate.store.max-side");
        }

        String[] trainArgs = {
            "train",
            "--config",
            "vits14",
            "--set",
            "data.dataset=\"curated:" + curated + "\"",
            "--set",
            "train.batch-size=2",
            "--set",
            "train.max-steps=2",
            "--set",
            "checkpoint.every-steps=2",
            "--set",
            "data.loader-threads=1",
            "--json",
            "--out"
        };
        Path run = tmp.resolve("run");
        CliTestSupport.Run t = CliTestSupport.main(with(trainArgs, run.toString()));
        ok(t);
        JsonNode trained = lastJson(t);
        assertEquals(2, trained.get("end_step").asLong(), t::toString);
        assertTrue(Double.isFinite(trained.get("total_loss").asDouble()), t::toString);

        Path ranks = tmp.resolve("run-ranks");
        CliTestSupport.Run r2 = CliTestSupport.main(with(trainArgs, ranks.toString(), "--ranks", "2"));
        ok(r2);
        assertEquals(2, lastJson(r2).get("end_step").asLong(), r2::toString);

        CliTestSupport.Run knn = CliTestSupport.main(
                "eval",
                "knn",
                "--checkpoint",
                run.toString(),
                "--train-data",
                "folder:" + train,
                "--test-data",
                "folder:" + test);
        ok(knn);
        JsonNode k = lastJson(knn);
        assertEquals(
                CLASSES.toString(),
                k.get("classes").toString().replace("\"", "").replace(",", ", "),
                knn::toString);

        CliTestSupport.Run report = CliTestSupport.main(
                "report", run.toString(), "--train-data", "folder:" + train, "--test-data", "folder:" + test, "--json");
        ok(report);
        assertTrue(report.out().contains("classes: circles, rectangles, triangles"), report::toString);
        assertTrue(report.out().contains("progress: step 2"), report::toString);
        JsonNode rep = lastJson(report);
        assertEquals(2, rep.get("step").asLong(), report::toString);
        assertTrue(rep.get("report").asText().endsWith("index.html"), report::toString);
    }

    @Test
    void photosFromTheLoopbackS3ThroughCurateAndTrainVits14(@TempDir Path tmp) throws Exception {
        Path photos = PhotoFolders.write(tmp.resolve("photos"), CLASSES, 3, 5);
        String s3 = tmp.resolve("s3").toString();
        ok(CliTestSupport.main("ingest", "s3://lake/photos", "--from-folder", photos.toString(), "--local-s3", s3));
        Path curated = tmp.resolve("curated");
        ok(CliTestSupport.main(
                "curate",
                "--local-s3",
                s3,
                "--source",
                "s3://lake/photos/",
                "--out",
                curated.toString(),
                "--work",
                tmp.resolve("w").toString()));
        try (CuratedDataset ds = CuratedDataset.open(curated)) {
            assertTrue(ds.size() >= 6, "curated from the bucket: " + ds.size());
        }
        CliTestSupport.Run t = CliTestSupport.main(
                "train",
                "--config",
                "vits14",
                "--set",
                "data.dataset=\"curated:" + curated + "\"",
                "--set",
                "train.batch-size=2",
                "--set",
                "train.max-steps=2",
                "--set",
                "data.loader-threads=1",
                "--json",
                "--out",
                tmp.resolve("run").toString());
        ok(t);
        assertEquals(2, lastJson(t).get("end_step").asLong(), t::toString);
    }

    private static String[] with(String[] args, String... more) {
        String[] all = new String[args.length + more.length];
        System.arraycopy(args, 0, all, 0, args.length);
        System.arraycopy(more, 0, all, args.length, more.length);
        return all;
    }
}
