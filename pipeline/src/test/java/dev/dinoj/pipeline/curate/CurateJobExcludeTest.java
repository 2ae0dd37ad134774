package dev.dinoj.pipeline.curate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.ActorSystem;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.pipeline.data.IdxDataset;
import dev.dinoj.pipeline.data.ImageFolderDataset;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.embed.CopyEmbedder;
import dev.dinoj.pipeline.embed.Embedder;
import dev.dinoj.pipeline.embed.PixelEmbedder;
import dev.dinoj.pipeline.embed.ThumbnailEmbedder;
import dev.dinoj.pipeline.ingest.EmbeddingStore;
import dev.dinoj.pipeline.ingest.ImageEncoding;
import dev.dinoj.pipeline.ingest.ManifestEntry;
import dev.dinoj.pipeline.ingest.ObjectState;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import dev.dinoj.testkit.FashionMnist;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exclusion ({@code curate --exclude}) reads the copy-detection columns when they are {@code copy:24} thumbnails
 * already (the default): the work directory's embeddings are those of the same curation without exclusion, and a
 * planted copy of a reference image still ends {@code excluded}. With another copy embedder ({@code thumbnail:20}) the
 * thumbnails are stored in leading columns of their own, as before. Queries check that retrieval reads the right
 * columns in both layouts.
 */
@Timeout(300)
class CurateJobExcludeTest {
    private static final Set<Integer> ACCESSORIES = Set.of(5, 7, 8, 9);
    private static final int REFS = 60;
    private static final int UNRELATED = 40;

    @Test
    void theExclusionShouldReuseCopy24ColumnsAndWrapOtherCopyEmbedders(@TempDir Path tmp) throws IOException {
        IdxDataset train = IdxDataset.fashionMnist(FashionMnist.assumeInstalled(), true);
        IdxDataset test = IdxDataset.fashionMnist(FashionMnist.assumeInstalled(), false);
        Path refs = Files.createDirectories(tmp.resolve("refs"));
        List<Integer> refIdx = new java.util.ArrayList<>();
        for (int i = 0; refIdx.size() < REFS; i++) {
            if (ACCESSORIES.contains(test.label(i))) {
                Files.write(
                        refs.resolve(String.format(Locale.ROOT, "t%03d.png", refIdx.size())),
                        ImageEncoding.png(test.image(i)));
                refIdx.add(i);
            }
        }
        Path pool = Files.createDirectories(tmp.resolve("pool"));
        for (int i = 0, n = 0; n < UNRELATED; i++) {
            if (!ACCESSORIES.contains(train.label(i))) {
                Files.write(
                        pool.resolve(String.format(Locale.ROOT, "train-%04d.png", i)),
                        ImageEncoding.png(train.image(i)));
                n++;
            }
        }
        // a crop and a photometric copy of two reference images, and one byte-identical copy
        SplittableRandom rnd = new SplittableRandom(5);
        RgbImage crop = CopyEdits.make(test.image(refIdx.get(7)), CopyEdits.Kind.CROP, rnd)
                .image();
        RgbImage photo = CopyEdits.make(test.image(refIdx.get(31)), CopyEdits.Kind.PHOTOMETRIC, rnd)
                .image();
        Files.write(pool.resolve("copy-7.png"), ImageEncoding.png(crop));
        Files.write(pool.resolve("copy-31.png"), ImageEncoding.png(photo));
        Files.write(pool.resolve("copy-44.png"), Files.readAllBytes(refs.resolve("t044.png")));
        Path queries = Files.createDirectories(tmp.resolve("queries"));
        for (int i = 2000, n = 0; n < 2; i++) {
            if (!ACCESSORIES.contains(train.label(i))) {
                Files.write(queries.resolve("q" + i + ".png"), ImageEncoding.png(train.image(i)));
                n++;
            }
        }
        CurateJob.ExcludeSet set = new CurateJob.ExcludeSet("folder:refs", ImageFolderDataset.open(refs));

        for (Embedder copy : new Embedder[] {new CopyEmbedder(24), new ThumbnailEmbedder(20)}) {
            boolean reused = copy instanceof CopyEmbedder;
            Embedder retrieval = new PixelEmbedder(28);
            CurateJob.Layout plain = CurateJob.layout(copy, retrieval, false);
            CurateJob.Layout excl = CurateJob.layout(copy, retrieval, true);
            assertEquals(reused ? 0 : 576, excl.excludeDims(), copy.id());
            assertEquals(reused, plain.embedder().id().equals(excl.embedder().id()), copy.id());
            assertEquals(
                    plain.embedder().dim() + excl.excludeDims(), excl.embedder().dim(), copy.id());

            Path work = tmp.resolve("work-" + copy.id().replace(':', '-'));
            Path out = tmp.resolve("out-" + copy.id().replace(':', '-'));
            StorageSettings ss = StorageSettings.defaults();
            ActorSystem system = ObjectStores.createSystem("CurateJobExcludeTest", ConfigFactory.load(), ss);
            CurateJob.Outcome o;
            try {
                o = CurateJob.run(
                        system,
                        new CurateJob.Spec(
                                StorageUri.parse(pool.toString()),
                                StorageUri.parse(queries.toString()),
                                StorageUri.parse(out.toString()),
                                work,
                                null,
                                List.of(set),
                                AlignedCopyDetector.THRESHOLD),
                        copy,
                        retrieval,
                        CurationSettings.defaults()
                                .withRetrieval(5, 5, CurationSettings.defaults().retrievalClusters()),
                        ss,
                        line -> {},
                        null);
            } finally {
                ObjectStores.terminate(system);
            }
            // the stored embeddings: without a second copy of the thumbnails when copy:24 is the copy embedder
            int dim = reused ? 576 + 784 : 576 + 400 + 784;
            String id = reused ? plain.embedder().id() : excl.embedder().id();
            try (EmbeddingStore s = EmbeddingStore.open(work.resolve("embeddings.bin"), dim, id)) {
                assertEquals(UNRELATED + 3, s.size(), copy.id());
            }
            Map<String, ManifestEntry> byKey = new TreeMap<>();
            o.curation().manifest().forEach(e -> byKey.put(e.key(), e));
            for (String key : List.of("copy-7.png", "copy-31.png", "copy-44.png")) {
                ManifestEntry e = byKey.get(key);
                assertEquals(ObjectState.EXCLUDED, e.state(), copy.id() + " " + key + ": " + e);
                assertTrue(e.detail().contains("folder:refs #" + key.replaceAll("\\D", "") + " "), e.detail());
            }
            long wrong = byKey.values().stream()
                    .filter(e -> e.key().startsWith("train-") && e.state() == ObjectState.EXCLUDED)
                    .count();
            assertEquals(0, wrong, copy.id());
            assertEquals(3L, o.curation().summary().states().get(ObjectState.EXCLUDED), copy.id());
            // retrieval around the two clothing queries reads the pixel columns: it keeps clothes only
            long kept = o.curation().curated().size();
            assertTrue(kept >= 5 && kept < UNRELATED, copy.id() + ": kept " + kept);
            assertNotEquals(0, o.curation().summary().retrievedPerQuery().size(), copy.id());
        }
    }
}
