package dev.dinoj.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.pipeline.curate.CuratedDataset;
import dev.dinoj.pipeline.curate.CuratedIndexEntry;
import dev.dinoj.pipeline.image.PhotoFolders;
import dev.dinoj.pipeline.image.SyntheticPhotos;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #14 acceptance 2: a 9000 × 9000 PNG of a few hundred KB (243 MB of pixels, a gigabyte of float planes) inside
 * a curated set is skipped and counted when a {@code -Xmx1g} JVM trains on the set; training goes on. The set is
 * curated with {@code curate.store.max-side=0} (originals kept) so the PNG is stored as it came (ingestion's own guard,
 * {@code curate.ingest.max-image-pixels}, is PIL's 89.5 Mpx, above its 81 Mpx); the training guard,
 * {@code data.max-image-pixels}, is 25 Mpx.
 */
@Timeout(600)
class OversizedPhotoTrainingTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aHugePngInACuratedSetShouldBeSkippedAndCountedUnderXmx1g(@TempDir Path tmp) throws Exception {
        Path curated = curatedWithHugePng(tmp);
        String out = train(tmp, curated, List.of());
        assertTrue(out.contains("huge.png): skipped (9000x9000"), "logged once, by name:\n" + out);
        JsonNode summary = summary(out);
        assertEquals(2, summary.get("end_step").asLong(), out);
        assertTrue(Double.isFinite(summary.get("total_loss").asDouble()), out);
        assertEquals(1, summary.path("images_skipped").asInt(-1), "the skip is counted: " + summary);
    }

    /**
     * With {@code --ranks 2} each rank decodes its half of every batch: the run's count is the union of the ranks'
     * (the huge PNG is counted once, whichever rank met it).
     */
    @Test
    void aHugePngShouldBeCountedOnceWithRanks(@TempDir Path tmp) throws Exception {
        Path curated = curatedWithHugePng(tmp);
        String out = train(tmp, curated, List.of("--ranks", "2"));
        JsonNode summary = summary(out);
        assertEquals(2, summary.get("end_step").asLong(), out);
        assertEquals(1, summary.path("images_skipped").asInt(-1), "the skip is counted once: " + summary);
    }

    /** Photos of 2 classes and a 9000 x 9000 PNG, curated with the originals kept. */
    private static Path curatedWithHugePng(Path tmp) throws Exception {
        Path photos = PhotoFolders.write(tmp.resolve("photos"), List.of("circles", "rectangles"), 3, 5);
        byte[] huge = SyntheticPhotos.flatPng(9000, 9000, 0x4080c0);
        assertTrue(huge.length > 100_000 && huge.length < 1_000_000, "a few hundred KB: " + huge.length);
        Files.write(photos.resolve("circles/huge.png"), huge);

        Path curated = tmp.resolve("curated");
        CliTestSupport.Run c = CliTestSupport.main(
                "curate",
                "--source",
                photos.toString(),
                "--out",
                curated.toString(),
                "--work",
                tmp.resolve("w").toString(),
                "--set",
                "curate.store.max-side=0");
        assertEquals(0, c.code(), c::toString);
        try (CuratedDataset ds = CuratedDataset.open(curated)) {
            CuratedIndexEntry e = null;
            for (int i = 0; i < ds.size(); i++) {
                if (ds.entry(i).key().endsWith("circles/huge.png")) {
                    e = ds.entry(i);
                }
            }
            assertTrue(e != null, "the 9000 x 9000 PNG is in the curated set");
            assertEquals(9000, e.width());
            assertEquals(9000, e.height());
            assertEquals(huge.length, e.length(), "stored as it came");
            assertNull(e.source(), "not re-encoded");
        }
        return curated;
    }

    /**
     * Two steps on the curated set in a {@code -Xmx1g} child JVM; one step's batch is the whole set (an epoch's
     * permutation; with ranks, the largest multiple of their number), so the huge PNG is drawn. Returns the run's
     * output.
     */
    private static String train(Path tmp, Path curated, List<String> extra) throws Exception {
        int size;
        try (CuratedDataset ds = CuratedDataset.open(curated)) {
            size = ds.size();
        }
        // with --ranks R the batch is a multiple of R; 2 steps of it still cover the first epoch (every image)
        int ranks = extra.contains("--ranks") ? Integer.parseInt(extra.get(extra.indexOf("--ranks") + 1)) : 1;
        int batch = size / ranks * ranks;
        Path run = tmp.resolve("run");
        Path log = tmp.resolve("train.log");
        List<String> args = new ArrayList<>(List.of(
                "train",
                "--config",
                "fmnist-pico",
                "--set",
                "data.dataset=\"curated:" + curated + "\"",
                "--set",
                "train.batch-size=" + batch,
                "--set",
                "train.max-steps=2",
                "--set",
                "data.loader-threads=1",
                "--json",
                "--out",
                run.toString()));
        args.addAll(extra);
        Process p = CliTestSupport.childMain(tmp, log, args).start(); // -Xmx1g
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
            fail("the -Xmx1g run did not finish in 300 s:\n" + Files.readString(log));
        }
        String out = Files.readString(log);
        assertEquals(0, p.exitValue(), out);
        assertFalse(out.contains("OutOfMemoryError"), out);
        return out;
    }

    private static JsonNode summary(String out) throws Exception {
        return JSON.readTree(out.lines()
                .filter(l -> l.startsWith("{\"train\""))
                .reduce((a, b) -> b)
                .orElseThrow(() -> new AssertionError("no summary line:\n" + out)));
    }
}
