package dev.dinoj.pipeline.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.NotUsed;
import akka.actor.ActorSystem;
import akka.stream.javadsl.Source;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.pipeline.storage.LocalObjectStore;
import dev.dinoj.pipeline.storage.ObjectInfo;
import dev.dinoj.pipeline.storage.ObjectStore;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageException;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The ingestion graph over a local directory: states, exact duplicates, archives, resume, back-pressure. */
@Timeout(120)
class IngestRunTest {
    static ActorSystem system;

    @BeforeAll
    static void start() {
        system = ObjectStores.createSystem("IngestRunTest", ConfigFactory.load(), StorageSettings.defaults());
    }

    @AfterAll
    static void stop() throws Exception {
        ObjectStores.terminate(system);
    }

    /** Writes the mixed pool; returns the expected state of every key. */
    static Map<String, ObjectState> writePool(Path dir) throws IOException {
        Map<String, ObjectState> want = new HashMap<>();
        Files.createDirectories(dir.resolve("img"));
        for (int i = 0; i < 20; i++) {
            Files.write(dir.resolve(String.format("img/%02d.png", i)), Fixtures.png(Fixtures.pattern(32, 32, 100 + i)));
            want.put(String.format("img/%02d.png", i), ObjectState.INGESTED);
        }
        for (int i = 0; i < 3; i++) {
            Files.copy(
                    dir.resolve(String.format("img/%02d.png", i)), dir.resolve(String.format("img/%02d-copy.png", i)));
            // "-copy" sorts before ".png": the copy has the smaller key and is the one kept
            want.put(String.format("img/%02d-copy.png", i), ObjectState.INGESTED);
            want.put(String.format("img/%02d.png", i), ObjectState.EXACT_DUPLICATE);
        }
        Files.write(dir.resolve("img/photo.jpg"), Fixtures.encode(Fixtures.pattern(48, 40, 7), "jpeg"));
        want.put("img/photo.jpg", ObjectState.INGESTED);
        Files.write(dir.resolve("bad/empty.png"), new byte[0], createParents(dir.resolve("bad")));
        want.put("bad/empty.png", ObjectState.CORRUPT);
        byte[] png = Fixtures.png(Fixtures.pattern(64, 64, 9));
        Files.write(dir.resolve("bad/truncated.png"), Fixtures.truncate(png, png.length / 2));
        want.put("bad/truncated.png", ObjectState.CORRUPT);
        Files.writeString(dir.resolve("bad/readme.txt"), "not an image\n", StandardCharsets.UTF_8);
        want.put("bad/readme.txt", ObjectState.NOT_AN_IMAGE);
        Files.write(dir.resolve("bad/tiny.png"), Fixtures.png(Fixtures.pattern(4, 4, 3)));
        want.put("bad/tiny.png", ObjectState.FILTERED);
        Files.write(dir.resolve("bad/huge.bin"), new byte[300_000]);
        want.put("bad/huge.bin", ObjectState.TOO_LARGE);
        Files.write(
                dir.resolve("archive/imgs-idx3-ubyte.gz"),
                Fixtures.gzip(Fixtures.idx(5, 28, 28)),
                createParents(dir.resolve("archive")));
        want.put("archive/imgs-idx3-ubyte.gz", ObjectState.INGESTED);
        for (int i = 0; i < 5; i++) {
            want.put("archive/imgs-idx3-ubyte.gz#" + i, ObjectState.INGESTED);
        }
        return want;
    }

    private static java.nio.file.OpenOption[] createParents(Path dir) throws IOException {
        Files.createDirectories(dir);
        return new java.nio.file.OpenOption[0];
    }

    static IngestSettings settings() {
        return IngestSettings.defaults()
                .withLimits(200_000, 1 << 24, 89_478_485L)
                .withEmbedBatch(4)
                .withDownloadParallelism(4);
    }

    @Test
    void shouldGiveEveryObjectExactlyOneStateAndResumeWithoutWork(@TempDir Path tmp) throws Exception {
        Path pool = tmp.resolve("pool");
        Map<String, ObjectState> want = writePool(pool);
        Fixtures.CountingEmbedder emb = new Fixtures.CountingEmbedder();
        IngestRun.Result r;
        try (LocalObjectStore store = new LocalObjectStore(pool)) {
            r = runAndClose(pool, tmp.resolve("work"), store, emb);
        }
        Map<String, ManifestEntry> got = r.entries().stream().collect(Collectors.toMap(ManifestEntry::key, e -> e));
        assertEquals(want.keySet(), got.keySet());
        for (Map.Entry<String, ObjectState> w : want.entrySet()) {
            ManifestEntry e = got.get(w.getKey());
            // the stream marks the later-arriving copy; Curation settles on the smallest key, so check the pair only
            if (w.getValue() == ObjectState.EXACT_DUPLICATE || w.getKey().contains("-copy")) {
                assertTrue(e.state() == ObjectState.INGESTED || e.state() == ObjectState.EXACT_DUPLICATE, e.toString());
                continue;
            }
            assertEquals(w.getValue(), e.state(), w.getKey() + ": " + e.detail());
        }
        long dupPairs = got.values().stream()
                .filter(e -> e.state() == ObjectState.EXACT_DUPLICATE)
                .count();
        assertEquals(3, dupPairs);
        assertEquals(5, got.get("archive/imgs-idx3-ubyte.gz").members());
        assertEquals(20 + 1 + 5, emb.images.get(), "each distinct content embedded once");
        assertNotNull(r.embeddings().get(got.get("img/05.png").sha256()));

        // a second run over the same work directory skips everything
        Fixtures.CountingEmbedder again = new Fixtures.CountingEmbedder();
        try (LocalObjectStore store = new LocalObjectStore(pool)) {
            IngestRun.Result r2 = runAndClose(pool, tmp.resolve("work"), store, again);
            assertEquals(0, r2.stats().recorded());
            assertEquals(want.size() - 5, r2.stats().resumed(), "every listed object was already recorded");
            assertEquals(0, again.images.get());
            assertEquals(want.size(), r2.entries().size());
        }
        // a changed object (new ETag) is processed again
        Files.write(pool.resolve("img/photo.jpg"), Fixtures.encode(Fixtures.pattern(48, 40, 8), "jpeg"));
        Files.setLastModifiedTime(pool.resolve("img/photo.jpg"), java.nio.file.attribute.FileTime.fromMillis(12345));
        try (LocalObjectStore store = new LocalObjectStore(pool)) {
            IngestRun.Result r3 = runAndClose(pool, tmp.resolve("work"), store, new Fixtures.CountingEmbedder());
            assertEquals(1, r3.stats().recorded());
        }
    }

    private static IngestRun.Result runAndClose(
            Path pool, Path work, ObjectStore store, Fixtures.CountingEmbedder emb) {
        Manifest m = Manifest.open(work.resolve("manifest.jsonl"));
        EmbeddingStore e = EmbeddingStore.open(work.resolve("embeddings.bin"), emb.dim(), emb.id());
        try {
            return new IngestRun(
                            system,
                            new ObjectStores.Location(store, "", StorageUri.of(pool)),
                            settings(),
                            emb,
                            m,
                            e,
                            null)
                    .run();
        } finally {
            m.close();
            e.close();
        }
    }

    @Test
    void shouldRecordAnObjectTheStoreRefusesAndTryItAgainNextRun(@TempDir Path tmp) throws Exception {
        Path pool = tmp.resolve("pool");
        Map<String, ObjectState> want = writePool(pool);
        Path work = tmp.resolve("work");
        try (CountingStore store = new CountingStore(new LocalObjectStore(pool))) {
            store.forbidden.add("img/03.png");
            IngestRun.Result r = runAndClose(pool, work, store, new Fixtures.CountingEmbedder());
            Map<String, ManifestEntry> byKey =
                    r.entries().stream().collect(Collectors.toMap(ManifestEntry::key, x -> x, (a, b) -> b));
            assertEquals(
                    ObjectState.UNREADABLE, byKey.get("img/03.png").state(), "one refused GET: that object's state");
            assertTrue(
                    byKey.get("img/03.png").detail().contains("403"),
                    byKey.get("img/03.png").detail());
            assertEquals(ObjectState.INGESTED, byKey.get("img/04.png").state(), "the rest of the pool is ingested");
        }
        try (CountingStore store = new CountingStore(new LocalObjectStore(pool))) {
            IngestRun.Result again = runAndClose(pool, work, store, new Fixtures.CountingEmbedder());
            assertEquals(1, again.stats().recorded(), "only the refused object is read again");
            assertEquals(1, store.gets.get());
            assertEquals(
                    want.get("img/03.png"),
                    Manifest.open(work.resolve("manifest.jsonl"))
                            .get("img/03.png")
                            .state());
        }
    }

    @Test
    void shouldResumeAKilledRunWithNothingLostOrDuplicated(@TempDir Path tmp) throws Exception {
        Path pool = tmp.resolve("pool");
        Map<String, ObjectState> want = writePool(pool);
        Path work = tmp.resolve("work");
        Fixtures.CountingEmbedder slow = new Fixtures.CountingEmbedder();
        slow.sleepMillis = 30;
        int firstRecorded;
        try (LocalObjectStore store = new LocalObjectStore(pool);
                Manifest m = Manifest.open(work.resolve("manifest.jsonl"));
                EmbeddingStore e = EmbeddingStore.open(work.resolve("embeddings.bin"), slow.dim(), slow.id())) {
            IngestRun.Handle h = new IngestRun(
                            system,
                            new ObjectStores.Location(store, "", StorageUri.of(pool)),
                            settings(),
                            slow,
                            m,
                            e,
                            null)
                    .start();
            long deadline = System.nanoTime() + 30_000_000_000L;
            while (m.size() < 8 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            h.abort();
            assertThrows(Exception.class, () -> h.done().toCompletableFuture().get(30, TimeUnit.SECONDS));
            firstRecorded = m.size();
        }
        assertTrue(firstRecorded > 0 && firstRecorded < want.size(), "killed midway: " + firstRecorded);
        IngestRun.Result r;
        try (LocalObjectStore store = new LocalObjectStore(pool)) {
            r = runAndClose(pool, work, store, new Fixtures.CountingEmbedder());
        }
        assertEquals(want.keySet(), r.entries().stream().map(ManifestEntry::key).collect(Collectors.toSet()));
        assertEquals(want.size(), r.entries().size());
        // every line of the file is a distinct key: no object was recorded twice
        List<String> lines = Files.readAllLines(work.resolve("manifest.jsonl"));
        assertEquals(
                lines.size(),
                lines.stream()
                        .map(l -> l.substring(0, l.indexOf(",\"")))
                        .distinct()
                        .count());
        assertEquals(want.size(), lines.size());
    }

    @Test
    void shouldBoundDownloadsInFlightWhenTheEmbedderIsSlow(@TempDir Path tmp) throws Exception {
        Path pool = tmp.resolve("pool");
        Files.createDirectories(pool);
        for (int i = 0; i < 60; i++) {
            Files.write(pool.resolve(String.format("%03d.png", i)), Fixtures.png(Fixtures.pattern(16, 16, i)));
        }
        Fixtures.CountingEmbedder slow = new Fixtures.CountingEmbedder();
        slow.sleepMillis = 40;
        try (CountingStore store = new CountingStore(new LocalObjectStore(pool))) {
            AtomicInteger ahead = new AtomicInteger();
            slow.hook = () -> ahead.accumulateAndGet(store.gets.get() - slow.images.get(), Math::max);
            IngestRun.Result r = runAndClose(pool, tmp.resolve("work"), store, slow);
            assertTrue(
                    ahead.get() <= 24, "back-pressure: downloads ran " + ahead.get() + " images ahead of the embedder");
            assertEquals(60, r.stats().recorded());
            assertTrue(
                    store.maxInFlight.get() <= settings().downloadParallelism(),
                    "at most download-parallelism GETs at once: " + store.maxInFlight.get());
        }
    }

    /** Counts concurrent GETs of a delegate store. */
    static final class CountingStore implements ObjectStore {
        final ObjectStore delegate;
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger maxInFlight = new AtomicInteger();
        final AtomicInteger gets = new AtomicInteger();
        /** Keys whose GET the store refuses as S3 answers 403 (a per-object ACL, a KMS key the reader lacks). */
        final Set<String> forbidden = ConcurrentHashMap.newKeySet();

        CountingStore(ObjectStore delegate) {
            this.delegate = delegate;
        }

        @Override
        public String describe() {
            return "counting " + delegate.describe();
        }

        @Override
        public StorageUri uriOf(String key) {
            return delegate.uriOf(key);
        }

        @Override
        public Source<ObjectInfo, NotUsed> list(String prefix) {
            return delegate.list(prefix);
        }

        @Override
        public CompletionStage<Optional<ObjectInfo>> head(String key) {
            return delegate.head(key);
        }

        @Override
        public CompletionStage<Blob> get(String key, long maxBytes) {
            int now = inFlight.incrementAndGet();
            maxInFlight.accumulateAndGet(now, Math::max);
            gets.incrementAndGet();
            if (forbidden.contains(key)) {
                inFlight.decrementAndGet();
                return CompletableFuture.failedFuture(new StorageException(
                        StorageException.Kind.PERMANENT, uriOf(key) + ": 403 Forbidden (AccessDenied)"));
            }
            return CompletableFuture.runAsync(() -> {}, CompletableFuture.delayedExecutor(5, TimeUnit.MILLISECONDS))
                    .thenCompose(x -> delegate.get(key, maxBytes))
                    .whenComplete((b, e) -> inFlight.decrementAndGet());
        }

        @Override
        public CompletionStage<ObjectInfo> put(String key, byte[] data, String contentType) {
            return delegate.put(key, data, contentType);
        }

        @Override
        public CompletionStage<ObjectInfo> putFile(String key, Path file, String contentType) {
            return delegate.putFile(key, file, contentType);
        }

        @Override
        public CompletionStage<ObjectInfo> getToFile(String key, Path file) {
            return delegate.getToFile(key, file);
        }

        @Override
        public CompletionStage<Void> ensureContainer() {
            return delegate.ensureContainer();
        }

        @Override
        public void close() {
            delegate.close();
        }
    }
}
