package dev.dinoj.trainer.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.ActorSystem;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.loopback.LoopbackS3Server;
import dev.dinoj.pipeline.curate.CurateJob;
import dev.dinoj.pipeline.curate.CurationSettings;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.embed.PixelEmbedder;
import dev.dinoj.pipeline.ingest.DatasetUpload;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import dev.dinoj.trainer.train.TestData;
import dev.dinoj.trainer.train.TrainLoop;
import dev.dinoj.trainer.train.TrainingRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code data.dataset = "curated:..."}: the trainer reads what {@code dinoj curate} wrote, locally and from S3. */
class CuratedDatasetSpecTest {

    @Test
    void badCuratedSpecsNameTheKey() {
        ConfigError empty = assertThrows(ConfigError.class, () -> DatasetSpec.parse("curated:", Path.of("/x")));
        assertTrue(
                empty.getMessage().contains("dinoj.data.dataset")
                        && empty.getMessage().contains("curated:"),
                empty.getMessage());
        ConfigError scheme =
                assertThrows(ConfigError.class, () -> DatasetSpec.parse("curated:ftp://h/x", Path.of("/x")));
        assertTrue(scheme.getMessage().contains("unsupported scheme ftp"), scheme.getMessage());
    }

    @Test
    void trainsOnACuratedDatasetFetchedFromTheLoopbackS3Server(@TempDir Path tmp) throws Exception {
        TestData pool = new TestData(60, 20); // 10 blob classes + noise: only near-identical at cosine > 0.998
        try (LoopbackS3Server server = LoopbackS3Server.start(tmp.resolve("s3"), 0)) {
            StorageSettings ss = StorageSettings.defaults()
                    .withLocalEndpoint(server.endpoint(), LoopbackS3Server.ACCESS_KEY, LoopbackS3Server.SECRET_KEY);
            Config app = ConfigFactory.load();
            ActorSystem system = ObjectStores.createSystem("CuratedDatasetSpecTest", app, ss);
            try (ObjectStores.Location loc = ObjectStores.open(StorageUri.parse("s3://lake/pool"), ss, system)) {
                DatasetUpload.upload(system, loc, pool, 0, 8, null);
                CurateJob.run(
                        system,
                        new CurateJob.Spec(
                                StorageUri.parse("s3://lake/pool"),
                                null,
                                StorageUri.parse("s3://lake/curated"),
                                tmp.resolve("work"),
                                40),
                        new PixelEmbedder(20),
                        CurationSettings.defaults().withNearDuplicateThreshold(0.9995f),
                        ss,
                        null,
                        null);
            } finally {
                ObjectStores.terminate(system);
            }

            DatasetSpec spec = DatasetSpec.parse("curated:s3://lake/curated", Path.of("/unused"), tmp.resolve("cache"));
            ImageDataset ds = spec.open(ss, app);
            assertEquals(40, ds.size());
            assertTrue(Files.isRegularFile(tmp.resolve("cache")
                    .resolve(Files.list(tmp.resolve("cache"))
                            .findFirst()
                            .orElseThrow()
                            .getFileName())
                    .resolve("index.jsonl")));
            // every curated image is one of the pool's images, decoded to the same pixels (PNG is lossless)
            for (int i = 0; i < ds.size(); i += 7) {
                RgbImage img = ds.image(i);
                String key =
                        ((dev.dinoj.pipeline.curate.CuratedDataset) ds).entry(i).key();
                int idx = Integer.parseInt(key.substring(key.lastIndexOf('/') + 1, key.length() - 4));
                assertArrayEquals(quantised(pool.image(idx)), quantised(img), key);
            }

            // the same dataset through the training config, opened from the local copy (curated:DIR)
            Path local = Files.list(tmp.resolve("cache")).findFirst().orElseThrow();
            TrainSettings s = TrainSettings.load(
                    "fmnist-pico",
                    List.of(
                            "train.max-steps=2",
                            "checkpoint.every-steps=2",
                            "data.loader-threads=1",
                            "data.dataset=\"curated:" + local + "\""));
            assertEquals("curated", s.data().dataset().kind());
            TrainLoop.Result r = new TrainingRun(s, tmp.resolve("run"), false, null).run();
            assertEquals(2, r.endStep());
            assertTrue(Double.isFinite(r.steps().get(1).totalLoss()));
        }
    }

    private static int[] quantised(RgbImage img) {
        int[] q = new int[img.chw().length];
        for (int i = 0; i < q.length; i++) {
            q[i] = Math.round(img.chw()[i] * 255);
        }
        return q;
    }
}
