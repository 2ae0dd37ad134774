package dev.dinoj.pipeline.curate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.ActorSystem;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.loopback.LoopbackS3Server;
import dev.dinoj.pipeline.data.IdxDataset;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.embed.CopyEmbedder;
import dev.dinoj.pipeline.embed.PixelEmbedder;
import dev.dinoj.pipeline.ingest.DatasetUpload;
import dev.dinoj.pipeline.ingest.ManifestEntry;
import dev.dinoj.pipeline.ingest.ObjectState;
import dev.dinoj.pipeline.ingest.PlantedPool;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.S3ObjectStore;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import dev.dinoj.testkit.FashionMnist;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance 1 and 2 of issue 3, end to end against the loopback S3 server: real Fashion-MNIST images plus planted
 * near duplicates (augmented, JPEG re-encoded copies), exact duplicates, noise images, zero-byte objects, truncated
 * PNGs, text files and a gzipped IDX archive; curated around query images of three classes (dress, sneaker, ankle
 * boot by default; {@code -Ddinoj.test.queryClasses=1,5,8} for others). Embedders: {@link CopyEmbedder} (24×24 grey
 * thumbnails, aligned copy detection: the {@code curate} default) for copy detection, {@link PixelEmbedder} (28×28, the raw-pixel baseline) for retrieval — a 15-minute
 * ViT checkpoint retrieves worse on Fashion-MNIST (docs/CURATION.md).
 */
@Timeout(600)
class CurationAcceptanceTest {
    static final int POOL = 2000;
    static final int NEAR = 100;
    static final int EXACT = 50;
    static final int[] QUERY_CLASSES = classes(System.getProperty("dinoj.test.queryClasses", "3,7,9"));
    static final int QUERIES_PER_CLASS = 10;
    static final int PER_QUERY = Integer.getInteger("dinoj.test.perQuery", 5);

    @Test
    void shouldDeduplicateAccountForEveryObjectAndRetrieveAroundTheQueries(@TempDir Path tmp) throws Exception {
        Path fm = FashionMnist.assumeInstalled();
        IdxDataset train = IdxDataset.fashionMnist(fm, true);
        IdxDataset test = IdxDataset.fashionMnist(fm, false);

        try (LoopbackS3Server server = LoopbackS3Server.start(tmp.resolve("s3"), 0)) {
            StorageSettings ss = StorageSettings.defaults()
                    .withLocalEndpoint(server.endpoint(), LoopbackS3Server.ACCESS_KEY, LoopbackS3Server.SECRET_KEY);
            ActorSystem system = ObjectStores.createSystem("CurationAcceptanceTest", ConfigFactory.load(), ss);
            try {
                S3ObjectStore lake = new S3ObjectStore(system, "lake", ss);
                ObjectStores.Location pool =
                        new ObjectStores.Location(lake, "pool", StorageUri.parse("s3://lake/pool"));
                DatasetUpload.upload(system, pool, train, POOL, 16, null);

                PlantedPool.Plan plan = PlantedPool.plan(
                        pool, train, POOL, test, new PlantedPool.Spec(NEAR, EXACT, 20, 5, 5, 3, 30), 7);
                PlantedPool.upload(system, pool, plan, 16);
                Map<String, Integer> labelOf = new HashMap<>(PlantedPool.poolLabels(pool, train, POOL));
                labelOf.putAll(plan.labelOf());
                Map<String, ObjectState> wantState = plan.wantState();
                Map<String, String> exactOf = plan.exactOf();
                Set<Set<String>> planted = plan.nearPairs();
                String archive = plan.archiveKey();
                // query images: 10 test images of each query class, from the end of the test set (not in the archive)
                ObjectStores.Location qloc =
                        new ObjectStores.Location(lake, "queries", StorageUri.parse("s3://lake/queries"));
                List<Integer> queryIdx = DatasetUpload.uploadPerClass(
                        system,
                        qloc,
                        test,
                        IntStream.iterate(test.size() - 1, i -> i >= 0, i -> i - 1),
                        QUERY_CLASSES,
                        QUERIES_PER_CLASS,
                        8);
                assertEquals(QUERY_CLASSES.length * QUERIES_PER_CLASS, queryIdx.size());

                // ---- curate
                CurationSettings cs = CurationSettings.defaults()
                        .withRetrieval(PER_QUERY, PER_QUERY, 0)
                        .withShardImages(200);
                if (System.getProperty("dinoj.test.threshold") != null) {
                    cs = cs.withNearDuplicateThreshold(Float.parseFloat(System.getProperty("dinoj.test.threshold")));
                }
                long t0 = System.nanoTime();
                CurateJob.Outcome o = CurateJob.run(
                        system,
                        new CurateJob.Spec(
                                StorageUri.parse("s3://lake/pool/"),
                                StorageUri.parse("s3://lake/queries/"),
                                StorageUri.parse("s3://lake/curated"),
                                tmp.resolve("work"),
                                null),
                        new CopyEmbedder(CopyEmbedder.DEFAULT_SIDE),
                        new PixelEmbedder(28),
                        cs,
                        ss,
                        line -> System.out.println("curate: " + line),
                        null);
                double seconds = (System.nanoTime() - t0) / 1e9;
                System.out.print(o.curation().summary().table());

                // ---- 1. every object accounted for, exactly once, in the right state
                Map<String, ManifestEntry> byKey = new HashMap<>();
                for (ManifestEntry e : o.curation().manifest()) {
                    assertTrue(byKey.put(e.key(), e) == null, "twice in the manifest: " + e.key());
                }
                Set<String> uploaded = PlantedPool.expectedKeys(pool, train, POOL, plan);
                assertEquals(uploaded, byKey.keySet(), "every object (and archive member) accounted for");
                for (Map.Entry<String, ObjectState> w : wantState.entrySet()) {
                    assertEquals(
                            w.getValue(),
                            byKey.get(w.getKey()).state(),
                            w.getKey() + ": " + byKey.get(w.getKey()).detail());
                }
                for (Map.Entry<String, String> x : exactOf.entrySet()) {
                    assertEquals(x.getValue(), byKey.get(x.getKey()).duplicateOf());
                }
                assertEquals(30, byKey.get(archive).members());

                // ---- dedup precision and recall on the planted near duplicates
                int detected = 0;
                for (Set<String> pair : planted) {
                    List<String> p = new ArrayList<>(pair);
                    if (rep(byKey, p.get(0)).equals(rep(byKey, p.get(1)))) {
                        detected++;
                    }
                }
                Set<String> inPlanted = new HashSet<>();
                planted.forEach(inPlanted::addAll);
                int flagged = 0;
                int flaggedPlanted = 0;
                for (ManifestEntry e : byKey.values()) {
                    if (e.state() == ObjectState.NEAR_DUPLICATE) {
                        flagged++;
                        if (inPlanted.contains(e.key()) && planted.contains(Set.of(e.key(), e.duplicateOf()))) {
                            flaggedPlanted++;
                        }
                    }
                }
                double recall = (double) detected / planted.size();
                double precision = flagged == 0 ? 1 : (double) flaggedPlanted / flagged;

                // ---- 2. retrieval: kept images from the query classes
                int kept = 0;
                int fromQueryClasses = 0;
                for (ManifestEntry e : o.curation().curated()) {
                    kept++;
                    Integer label = labelOf.get(e.key());
                    if (label != null && contains(QUERY_CLASSES, label)) {
                        fromQueryClasses++;
                    }
                    assertNotNull(e.why());
                }
                double retrievalPrecision = (double) fromQueryClasses / kept;
                System.out.printf(
                        Locale.ROOT,
                        "ACCEPTANCE near-dup recall %.3f precision %.3f (%d flagged, %d planted); "
                                + "retrieval %d kept, %.1f%% from query classes %s; %d objects; curate %.1f s%n",
                        recall,
                        precision,
                        flagged,
                        planted.size(),
                        kept,
                        100 * retrievalPrecision,
                        java.util.Arrays.toString(QUERY_CLASSES),
                        byKey.size(),
                        seconds);
                assertTrue(recall >= 0.95, "near-duplicate recall " + recall);
                // issue #16's measure: originals wrongly dropped, at most 1 % of the pool (the planted copies are 5 %
                // of
                // it, so a precision of 0.95 would allow only 0.25 %: Fashion-MNIST has near-identical items of its
                // own)
                int natural = flagged - flaggedPlanted;
                assertTrue(natural <= POOL / 100, "pool images flagged that are not planted copies: " + natural);
                assertTrue(retrievalPrecision >= 0.80, "retrieved from the query classes: " + retrievalPrecision);
                assertEquals(QUERY_CLASSES.length * QUERIES_PER_CLASS, o.queryImages());

                // ---- the written dataset reads back as an ImageDataset
                Path local = CuratedDataset.fetch(
                        StorageUri.parse("s3://lake/curated"), ss, ConfigFactory.load(), tmp.resolve("cache"));
                CuratedDataset ds = CuratedDataset.open(local);
                assertEquals(kept, ds.size());
                assertEquals(o.written().shards(), (kept + 199) / 200);
                for (int i = 0; i < ds.size(); i += Math.max(1, ds.size() / 10)) {
                    RgbImage img = ds.image(i);
                    assertEquals(28, img.width());
                    assertEquals(
                            ds.entry(i).key(), o.curation().curated().get(i).key());
                }
            } finally {
                ObjectStores.terminate(system);
            }
        }
    }

    /** The kept object a key ended with: itself if kept, else what it duplicates (followed to the end). */
    private static String rep(Map<String, ManifestEntry> byKey, String key) {
        String k = key;
        for (int guard = 0; guard < 10; guard++) {
            ManifestEntry e = byKey.get(k);
            if (e.duplicateOf() == null) {
                return k;
            }
            k = e.duplicateOf();
        }
        return k;
    }

    private static int[] classes(String csv) {
        return java.util.Arrays.stream(csv.split(","))
                .mapToInt(x -> Integer.parseInt(x.trim()))
                .toArray();
    }

    private static boolean contains(int[] a, int v) {
        for (int x : a) {
            if (x == v) {
                return true;
            }
        }
        return false;
    }
}
