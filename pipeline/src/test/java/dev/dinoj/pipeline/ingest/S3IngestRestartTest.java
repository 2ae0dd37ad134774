package dev.dinoj.pipeline.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.ActorSystem;
import akka.stream.alpakka.s3.RetrySettings;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.loopback.LoopbackS3Server;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.S3ObjectStore;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Acceptance 3 of issue 3: restarting the S3 server mid-ingest loses and duplicates nothing. */
@Timeout(180)
class S3IngestRestartTest {

    @Test
    void shouldLoseAndDuplicateNothingWhenTheServerRestartsMidIngest(@TempDir Path tmp) throws Exception {
        int n = 400;
        try (LoopbackS3Server server = LoopbackS3Server.start(tmp.resolve("s3"), 0)) {
            StorageSettings ss = StorageSettings.defaults()
                    .withLocalEndpoint(server.endpoint(), LoopbackS3Server.ACCESS_KEY, LoopbackS3Server.SECRET_KEY)
                    .withRetry(
                            RetrySettings.create(11, Duration.ofMillis(100), Duration.ofSeconds(1), 0.2)); // 12 tries
            ActorSystem system = ObjectStores.createSystem("S3IngestRestartTest", ConfigFactory.load(), ss);
            try {
                S3ObjectStore s3 = new S3ObjectStore(system, "pool", ss);
                s3.ensureContainer().toCompletableFuture().join();
                IngestRunTest.CountingStore store = new IngestRunTest.CountingStore(s3);
                Source.range(0, n - 1)
                        .mapAsyncUnordered(
                                16,
                                i -> s3.put(
                                        String.format("imgs/%04d.png", i),
                                        Fixtures.png(Fixtures.pattern(24, 24, 1000 + i)),
                                        "image/png"))
                        .runWith(Sink.ignore(), system)
                        .toCompletableFuture()
                        .join();

                Fixtures.CountingEmbedder emb = new Fixtures.CountingEmbedder();
                AtomicBoolean restarted = new AtomicBoolean();
                AtomicInteger getsBeforeStop = new AtomicInteger();
                emb.hook = () -> {
                    if (emb.images.get() >= 100 && restarted.compareAndSet(false, true)) {
                        getsBeforeStop.set(store.gets.get());
                        server.stopFor(Duration.ofMillis(
                                1500)); // requests in flight fail, new ones wait or fail and are retried
                    }
                };
                Path work = tmp.resolve("work");
                IngestRun.Result r;
                try (Manifest m = Manifest.open(work.resolve("manifest.jsonl"));
                        EmbeddingStore e = EmbeddingStore.open(work.resolve("embeddings.bin"), emb.dim(), emb.id())) {
                    IngestSettings is =
                            IngestSettings.defaults().withEmbedBatch(16).withDownloadParallelism(8);
                    r = new IngestRun(
                                    system,
                                    new ObjectStores.Location(store, "imgs/", StorageUri.parse("s3://pool/imgs/")),
                                    is,
                                    emb,
                                    m,
                                    e,
                                    null)
                            .run();
                }
                assertTrue(restarted.get(), "the server was restarted during the run");
                assertTrue(
                        getsBeforeStop.get() < n / 2, "most downloads came after the restart: " + getsBeforeStop.get());
                System.out.printf(
                        "restart mid-ingest: %d GETs before the stop, %d in all%n",
                        getsBeforeStop.get(), store.gets.get());
                Set<String> want = IntStream.range(0, n)
                        .mapToObj(i -> String.format("imgs/%04d.png", i))
                        .collect(Collectors.toSet());
                assertEquals(
                        want, r.entries().stream().map(ManifestEntry::key).collect(Collectors.toSet()), "nothing lost");
                assertTrue(r.entries().stream().allMatch(x -> x.state() == ObjectState.INGESTED));
                List<String> lines = Files.readAllLines(work.resolve("manifest.jsonl"));
                assertEquals(n, lines.size(), "nothing recorded twice");
                assertEquals(n, emb.images.get(), "every image embedded exactly once");
            } finally {
                ObjectStores.terminate(system);
            }
        }
    }
}
