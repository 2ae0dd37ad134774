package dev.dinoj.actors.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.AskPattern;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.PixelGuard;
import dev.dinoj.pipeline.image.SyntheticPhotos;
import dev.dinoj.testkit.CuratedSets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Data-shard entities (spawned directly, without sharding) over Fashion-MNIST's test split, asked by probes. */
@Timeout(60)
class DataShardTest {

    static final Duration T = Duration.ofSeconds(20);
    static final ActorTestKit kit = ActorTestKit.create(
            "DataShardTest",
            ConfigFactory.parseString("akka.remote.artery.canonical.port = 0\n"
                            + "dinoj.actors.data { dataset = \"fashion-mnist:test\", slice-size = 4096 }\n")
                    .withFallback(ConfigFactory.load()));
    static final DataShard.Settings SETTINGS =
            DataShard.Settings.fromConfig(kit.system().settings().config());

    @AfterAll
    static void shutdown() {
        kit.shutdownTestKit();
    }

    static DataShard.Samples samples(ActorRef<DataShard.Command> shard, String dataset, int... indices) {
        TestProbe<DataShard.Samples> p = kit.createTestProbe();
        shard.tell(new DataShard.GetSamples(3, dataset, indices, 0, p.ref()));
        return p.receiveMessage(T);
    }

    @Test
    void shouldServeTheSamplesOfItsSliceAsEncodedImages() {
        ActorRef<DataShard.Command> shard = kit.spawn(DataShard.create(SETTINGS, 1));
        TestProbe<DataShard.Info> info = kit.createTestProbe();
        shard.tell(new DataShard.GetInfo("", info.ref()));
        assertEquals(new DataShard.Info("fashion-mnist:test", 10000, 4096), info.receiveMessage(T));

        DataShard.Samples s = samples(shard, "", 4096, 8191, 5000);
        assertEquals("", s.error());
        assertEquals(3, s.epoch());
        assertArrayEquals(new int[] {4096, 8191, 5000}, s.indices());
        assertArrayEquals(new int[] {28, 28, 28}, s.widths());
        assertArrayEquals(new byte[] {SampleCodec.RGB8, SampleCodec.RGB8, SampleCodec.RGB8}, s.kinds());
        assertArrayEquals(new String[] {"", "", ""}, s.keys(), "Fashion-MNIST has no object keys");
        assertArrayEquals(new int[0], s.skipped(), "Fashion-MNIST has no pixel guard");
        FetchedImages fetched = new FetchedImages(10000);
        fetched.add(s);
        ImageDataset ds = SETTINGS.open();
        for (int idx : s.indices()) {
            assertArrayEquals(ds.image(idx).chw(), fetched.image(idx).chw(), "image " + idx + " as stored");
        }
    }

    @Test
    void shouldSendPhotosAsStoredBytesInPiecesThatFitTheFrame(@TempDir Path dir) throws Exception {
        Files.write(dir.resolve("a-bomb.png"), SyntheticPhotos.blankPng(9000, 9000));
        Files.write(
                dir.resolve("b-photo.jpg"),
                SyntheticPhotos.jpeg(SyntheticPhotos.scene(4000, 3000, 1, 5), 0.92f, false));
        Files.write(dir.resolve("c-small.png"), SyntheticPhotos.encode(SyntheticPhotos.scene(64, 48, 2, 5), "png"));
        int budget = 256 * 1024;
        DataShard.Settings settings = new DataShard.Settings(
                "folder:" + dir, SETTINGS.fashionMnistDir(), 4096, dir.resolve("cache"), budget, SETTINGS.app());
        ActorRef<DataShard.Command> shard = kit.spawn(DataShard.create(settings, 0));
        Serialization ser = SerializationExtension.get(Adapter.toClassic(kit.system()));
        List<Integer> replyBytes = new ArrayList<>();
        FetchedImages fetched = new FetchedImages(3, PixelGuard.standard());
        fetched.fetch(
                        new int[] {0, 1, 2},
                        (indices, from) -> AskPattern.<DataShard.Command, DataShard.Samples>ask(
                                        shard,
                                        replyTo -> new DataShard.GetSamples(1, "", indices, from, replyTo),
                                        T,
                                        kit.scheduler())
                                .thenApply(s -> {
                                    assertEquals("", s.error());
                                    assertTrue(s.data().length <= budget, s.data().length + " bytes");
                                    replyBytes.add(ser.serialize(s).get().length);
                                    return s;
                                }))
                .toCompletableFuture()
                .get(60, TimeUnit.SECONDS);
        assertTrue(replyBytes.size() > 3, "the photo took several replies: " + replyBytes);
        assertTrue(replyBytes.stream().allMatch(b -> b < 4 * 1024 * 1024), "every reply fits the frame: " + replyBytes);
        ImageDataset ds = settings.open();
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(ds.image(i).chw(), fetched.image(i).chw(), "image " + i + " as the dataset decodes it");
        }
        assertEquals(
                4000, fetched.image(0).width(), "the 9000 x 9000 PNG is skipped; the photo after it takes its place");
        assertEquals(64, fetched.image(2).width());
        assertArrayEquals(new long[] {0}, fetched.skipped(), "the shard says which image it skipped, once");
    }

    /**
     * In a curated set a skipped image's place is taken by the next image within the guard: the reply carries that
     * image's key (what the run's audit records), not the key of the image that was never sent.
     */
    @Test
    void aSkippedImagesPlaceShouldCarryTheKeyOfTheImageSent(@TempDir Path dir) throws Exception {
        String[] keys = {"photos/a/bomb.png", "photos/b/photo.png", "photos/c/small.png"};
        byte[][] images = {
            SyntheticPhotos.blankPng(9000, 9000),
            SyntheticPhotos.encode(SyntheticPhotos.scene(80, 60, 1, 5), "png"),
            SyntheticPhotos.encode(SyntheticPhotos.scene(64, 48, 2, 5), "png")
        };
        Path root = CuratedSets.write(dir.resolve("curated"), keys, images);
        DataShard.Settings settings = new DataShard.Settings(
                "curated:" + root,
                SETTINGS.fashionMnistDir(),
                4096,
                dir.resolve("cache"),
                SETTINGS.maxReplyBytes(),
                SETTINGS.app());
        ActorRef<DataShard.Command> shardActor = kit.spawn(DataShard.create(settings, 0));
        DataShard.Samples s = samples(shardActor, "", 0, 1, 2);
        assertEquals("", s.error());
        assertArrayEquals(
                new String[] {"photos/b/photo.png", "photos/b/photo.png", "photos/c/small.png"},
                s.keys(),
                "the 9000 x 9000 PNG's place is the next image's, and so is its key");
        assertArrayEquals(new int[] {0}, s.skipped(), "the reply names the image skipped in its place");
        DataShard.Samples again = samples(shardActor, "", 2, 0);
        assertArrayEquals(new int[] {0}, again.skipped(), "known skipped: named again for the position it fills");
        assertArrayEquals(new int[0], samples(shardActor, "", 1, 2).skipped(), "none skipped for these");

        Path last = CuratedSets.write(dir.resolve("bomb-last"), new String[] {keys[1], keys[2], keys[0]}, new byte[][] {
            images[1], images[2], images[0]
        });
        DataShard.Samples wrapped = samples(shardActor, "curated:" + last, 2);
        assertArrayEquals(
                new String[] {"photos/b/photo.png"}, wrapped.keys(), "the first image takes the last's place");
        assertArrayEquals(new int[] {2}, wrapped.skipped());
    }

    @Test
    void shouldRefuseAnIndexOutsideItsSlice() {
        ActorRef<DataShard.Command> last = kit.spawn(DataShard.create(SETTINGS, 2)); // [8192, 10000)
        assertEquals("", samples(last, "", 9999).error());
        String error = samples(last, "", 9999, 10000).error();
        assertEquals("index 10000 is not in data shard 2 [8192, 10000)", error);
        assertTrue(samples(last, "", 100).error().contains("index 100 is not in data shard 2"));
    }

    @Test
    void shouldAnswerADatasetItCannotOpenWithAnErrorAndNoInfo() {
        ActorRef<DataShard.Command> shard = kit.spawn(DataShard.create(SETTINGS, 0));
        String error = samples(shard, "folder:" + Path.of("no", "such", "dir").toAbsolutePath(), 1)
                .error();
        assertTrue(error.startsWith("data shard 0 cannot open folder:"), error);
        TestProbe<DataShard.Info> info = kit.createTestProbe();
        shard.tell(new DataShard.GetInfo("folder:/no/such/dir", info.ref()));
        info.expectNoMessage(Duration.ofMillis(500)); // the coordinator asks again later
        shard.tell(new DataShard.GetInfo("fashion-mnist:test", info.ref()));
        assertEquals(10000, info.receiveMessage(T).size(), "the shard still serves its dataset");
    }
}
