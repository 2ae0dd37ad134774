package dev.dinoj.pipeline.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.ActorSystem;
import akka.stream.alpakka.s3.RetrySettings;
import akka.stream.alpakka.s3.S3Settings;
import akka.stream.javadsl.Sink;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.loopback.LoopbackS3Server;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Alpakka S3 against the in-process S3Proxy on loopback: the operations the pipeline uses, errors, retries. */
@Timeout(120)
class S3ObjectStoreTest {
    @TempDir
    static Path tmp;

    static LoopbackS3Server server;
    static ActorSystem system;
    static StorageSettings settings;
    static S3ObjectStore store;

    @BeforeAll
    static void start() {
        server = LoopbackS3Server.start(tmp.resolve("s3"), 0);
        settings = StorageSettings.defaults()
                .withLocalEndpoint(server.endpoint(), LoopbackS3Server.ACCESS_KEY, LoopbackS3Server.SECRET_KEY)
                .withRetry(RetrySettings.create(9, Duration.ofMillis(100), Duration.ofSeconds(1), 0.1)); // 10 tries
        system = ObjectStores.createSystem("S3ObjectStoreTest", ConfigFactory.load(), settings);
        store = new S3ObjectStore(system, "test-bucket", settings);
        store.ensureContainer().toCompletableFuture().join();
        store.ensureContainer().toCompletableFuture().join(); // idempotent
    }

    @AfterAll
    static void stop() throws Exception {
        ObjectStores.terminate(system);
        server.close();
    }

    @Test
    void shouldPutGetHeadAndListWithEtags() {
        byte[] data = "hello s3".getBytes();
        ObjectInfo put = store.put("a/b/hello.txt", data, "text/plain")
                .toCompletableFuture()
                .join();
        assertFalse(put.etag().isEmpty());
        ObjectStore.Blob got =
                store.get("a/b/hello.txt", 1 << 20).toCompletableFuture().join();
        assertArrayEquals(data, got.data());
        assertEquals(put.etag(), got.etag());
        ObjectInfo head =
                store.head("a/b/hello.txt").toCompletableFuture().join().orElseThrow();
        assertEquals(data.length, head.size());
        assertEquals(put.etag(), head.etag());
        List<ObjectInfo> listed = store.list("a/")
                .runWith(Sink.seq(), system)
                .toCompletableFuture()
                .join();
        assertEquals(1, listed.size());
        assertEquals("a/b/hello.txt", listed.get(0).key());
        assertEquals(put.etag(), listed.get(0).etag(), "listing and GET report the same ETag (resume depends on it)");
        assertTrue(store.head("a/missing").toCompletableFuture().join().isEmpty());
    }

    @Test
    void shouldPageThroughMoreThanOneThousandKeys() {
        int n = 1_010;
        akka.stream.javadsl.Source.range(0, n - 1)
                .mapAsyncUnordered(16, i -> store.put(String.format("many/%05d", i), new byte[] {(byte) (int) i}, null))
                .runWith(Sink.ignore(), system)
                .toCompletableFuture()
                .join();
        List<ObjectInfo> listed = store.list("many/")
                .runWith(Sink.seq(), system)
                .toCompletableFuture()
                .join();
        assertEquals(n, listed.size());
        for (int i = 0; i < n; i++) {
            assertEquals(String.format("many/%05d", i), listed.get(i).key(), "listing is in key order");
        }
    }

    @Test
    void shouldReportMissingObjectsAndOversizedReadsAsPermanent() {
        CompletionException missing = assertThrows(
                CompletionException.class,
                () -> store.get("nope/nothing", 1000).toCompletableFuture().join());
        StorageException e = assertInstanceOf(StorageException.class, StorageException.unwrap(missing));
        assertEquals(StorageException.Kind.NOT_FOUND, e.kind());
        store.put("big", new byte[10_000], null).toCompletableFuture().join();
        CompletionException big = assertThrows(
                CompletionException.class,
                () -> store.get("big", 5_000).toCompletableFuture().join());
        assertEquals(StorageException.Kind.TOO_LARGE, ((StorageException) StorageException.unwrap(big)).kind());
    }

    @Test
    void shouldStreamFilesInAndOutWithMultipartUpload() throws Exception {
        byte[] data = new byte[7 * 1024 * 1024 + 123]; // two parts of Alpakka's default 5 MiB chunks
        new Random(7).nextBytes(data);
        Path in = tmp.resolve("in.bin");
        Files.write(in, data);
        store.putFile("files/in.bin", in, "application/octet-stream")
                .toCompletableFuture()
                .join();
        Path back = tmp.resolve("back/out.bin");
        ObjectInfo info =
                store.getToFile("files/in.bin", back).toCompletableFuture().join();
        assertEquals(data.length, info.size());
        assertArrayEquals(data, Files.readAllBytes(back));
    }

    @Test
    void shouldHandTheRetrySettingsToAlpakkaForRequestsAndMultipartParts() {
        S3Settings alpakka = S3ObjectStore.alpakkaSettings(system, settings);
        assertEquals(settings.retry(), alpakka.retrySettings());
        assertEquals(settings.retry(), alpakka.multipartUploadSettings().retrySettings());
        assertEquals(9, alpakka.retrySettings().maxRetries());
    }

    @Test
    void shouldRetryThroughAServerOutage() throws Exception {
        store.put("restart/x", new byte[] {1, 2, 3}, null).toCompletableFuture().join();
        long t0 = System.nanoTime();
        Thread resumer = server.stopFor(Duration.ofMillis(1500));
        ObjectStore.Blob b = store.get("restart/x", 100).toCompletableFuture().get(60, TimeUnit.SECONDS);
        double seconds = (System.nanoTime() - t0) / 1e9;
        resumer.join();
        assertArrayEquals(new byte[] {1, 2, 3}, b.data());
        assertTrue(
                seconds > 1.4,
                "sent while the server was down, the GET can only have succeeded on a retry after "
                        + "the outage, not in " + seconds + " s");
    }

    @Test
    void shouldNotRetryWithOneAttempt() throws Exception {
        store.put("once/x", new byte[] {4}, null).toCompletableFuture().join();
        StorageSettings once =
                settings.withRetry(RetrySettings.create(0, Duration.ofMillis(100), Duration.ofSeconds(1), 0));
        S3ObjectStore noRetries = new S3ObjectStore(system, "test-bucket", once);
        Thread resumer = server.stopFor(Duration.ofSeconds(3));
        try {
            CompletionException failed = assertThrows(
                    CompletionException.class,
                    () -> noRetries.get("once/x", 100).toCompletableFuture().join());
            assertFalse(server.isRunning(), "the GET failed at once, while the server was still down");
            StorageException e = assertInstanceOf(StorageException.class, StorageException.unwrap(failed));
            assertTrue(e.isTransient(), e.toString());
        } finally {
            resumer.join();
        }
        assertArrayEquals(
                new byte[] {4},
                noRetries.get("once/x", 100).toCompletableFuture().join().data());
    }
}
