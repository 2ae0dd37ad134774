package dev.dinoj.pipeline.curate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.ActorSystem;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.loopback.LoopbackS3Server;
import dev.dinoj.pipeline.data.DatasetException;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fetching a curated set from S3 trusts nothing the bucket says: shard names must be the writer's
 * ({@code shards/shard-NNNNNN.tar}, so nothing is written outside the cache), and files whose SHA-256 the summary
 * records must match it.
 */
@Timeout(120)
class CuratedDatasetFetchTest {

    @TempDir
    static Path tmp;

    static LoopbackS3Server server;
    static StorageSettings settings;
    static ActorSystem system;

    @BeforeAll
    static void start() throws Exception {
        server = LoopbackS3Server.start(tmp.resolve("s3"), 0);
        settings = StorageSettings.defaults()
                .withLocalEndpoint(server.endpoint(), LoopbackS3Server.ACCESS_KEY, LoopbackS3Server.SECRET_KEY);
        system = ObjectStores.createSystem("CuratedDatasetFetchTest", ConfigFactory.load(), settings);
    }

    @AfterAll
    static void stop() throws Exception {
        ObjectStores.terminate(system);
        server.close();
    }

    private static final byte[] SHARD = "0123456789abcdef".repeat(64).getBytes(StandardCharsets.US_ASCII);

    /** Uploads a one-image set under {@code prefix}; {@code shard} is the index's shard name. */
    private static StorageUri upload(String prefix, String shard, boolean withChecksums, byte[] storedShard) {
        return upload(prefix, shard, withChecksums ? SHARD : null, storedShard);
    }

    /** As above; the summary records the checksum of {@code recordedShard} (null: no checksums). */
    private static StorageUri upload(String prefix, String shard, byte[] recordedShard, byte[] storedShard) {
        boolean withChecksums = recordedShard != null;
        StorageUri uri = StorageUri.parse("s3://lake/" + prefix);
        String index = "{\"i\":0,\"key\":\"a.png\",\"shard\":\"" + shard + "\",\"offset\":512,\"length\":16,"
                + "\"format\":\"png\",\"sha256\":\"00\"}\n";
        String sums = withChecksums
                ? ",\"sha256\":{\"index.jsonl\":\"" + CuratedDataset.sha256(index.getBytes(StandardCharsets.UTF_8))
                        + "\",\"shards/shard-000000.tar\":\"" + CuratedDataset.sha256(recordedShard) + "\"}"
                : "";
        try (ObjectStores.Location loc = ObjectStores.open(uri, settings, system)) {
            loc.store().ensureContainer().toCompletableFuture().join();
            loc.store()
                    .put(loc.key("index.jsonl"), index.getBytes(StandardCharsets.UTF_8), "application/x-ndjson")
                    .toCompletableFuture()
                    .join();
            loc.store()
                    .put(loc.key("shards/shard-000000.tar"), storedShard, "application/x-tar")
                    .toCompletableFuture()
                    .join();
            loc.store()
                    .put(
                            loc.key("summary.json"),
                            ("{\"format\":\"dinoj-curated/1\",\"images\":1" + sums + "}")
                                    .getBytes(StandardCharsets.UTF_8),
                            "application/json")
                    .toCompletableFuture()
                    .join();
        }
        return uri;
    }

    private static Path fetch(StorageUri uri, Path cache) {
        return CuratedDataset.fetch(uri, settings, ConfigFactory.load(), cache);
    }

    @Test
    void shouldFetchAndOpenAWellFormedSetWithItsChecksums() throws Exception {
        Path cache = tmp.resolve("good/cache");
        Path dir = fetch(upload("good", "shards/shard-000000.tar", true, SHARD), cache);
        try (CuratedDataset ds = CuratedDataset.open(dir)) {
            assertEquals(1, ds.size());
            assertTrue(Arrays.equals(Arrays.copyOfRange(SHARD, 512, 528), ds.bytes(0)));
        }
    }

    @Test
    void shouldReplaceTheCachedCopyWhenTheSetIsCuratedAgainOrTheLocalIndexChanged() throws Exception {
        Path cache = tmp.resolve("recurated/cache");
        byte[] second = "fedcba9876543210".repeat(64).getBytes(StandardCharsets.US_ASCII);
        Path dir = fetch(upload("recurated", "shards/shard-000000.tar", SHARD, SHARD), cache);
        try (CuratedDataset ds = CuratedDataset.open(dir)) {
            assertTrue(Arrays.equals(Arrays.copyOfRange(SHARD, 512, 528), ds.bytes(0)));
        }
        dir = fetch(upload("recurated", "shards/shard-000000.tar", second, second), cache);
        try (CuratedDataset ds = CuratedDataset.open(dir)) {
            assertTrue(Arrays.equals(Arrays.copyOfRange(second, 512, 528), ds.bytes(0)), "the set curated again");
        }
        byte[] index = Files.readAllBytes(cache.resolve(CuratedDataset.INDEX));
        Files.writeString(cache.resolve(CuratedDataset.INDEX), "\n", StandardOpenOption.APPEND); // changed locally
        fetch(StorageUri.parse("s3://lake/recurated"), cache);
        assertTrue(
                Arrays.equals(index, Files.readAllBytes(cache.resolve(CuratedDataset.INDEX))),
                "a local index whose checksum is not the recorded one is fetched again");
    }

    @Test
    void shouldRefuseShardNamesThatLeaveTheCache() {
        for (String evil : new String[] {"../../escaped.tar", "/tmp/dinoj-escaped.tar", "shards/../../escaped.tar"}) {
            Path cache = tmp.resolve("evil/cache");
            StorageUri uri = upload("evil", evil, false, SHARD);
            DatasetException e = assertThrows(DatasetException.class, () -> fetch(uri, cache), evil);
            assertTrue(e.getMessage().contains("names shard"), e.getMessage());
            assertFalse(Files.exists(tmp.resolve("escaped.tar")), evil);
            assertFalse(Files.exists(Path.of("/tmp/dinoj-escaped.tar")), evil);
        }
    }

    @Test
    void shouldRefuseAShardThatDiffersFromItsRecordedChecksum() {
        byte[] tampered = SHARD.clone();
        tampered[600] ^= 1;
        Path cache = tmp.resolve("tampered/cache");
        StorageUri uri = upload("tampered", "shards/shard-000000.tar", true, tampered);
        DatasetException e = assertThrows(DatasetException.class, () -> fetch(uri, cache));
        assertTrue(e.getMessage().contains("shards/shard-000000.tar: SHA-256"), e.getMessage());
        assertFalse(Files.exists(cache.resolve("shards/shard-000000.tar")), "the bad file is not left in the cache");
        assertFalse(Files.exists(cache.resolve("summary.json")), "the cache is not marked complete");
    }

    @Test
    void shouldRefuseToOpenAnIndexThatNamesAFileOutsideTheSet() throws Exception {
        Path dir = tmp.resolve("local-evil");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("summary.json"), "{}");
        Files.writeString(
                dir.resolve("index.jsonl"),
                "{\"i\":0,\"key\":\"a\",\"shard\":\"../../etc/passwd\",\"offset\":0,\"length\":4,\"format\":\"png\"}\n");
        DatasetException e = assertThrows(DatasetException.class, () -> CuratedDataset.open(dir));
        assertTrue(e.getMessage().contains("line 1 names shard"), e.getMessage());
    }
}
