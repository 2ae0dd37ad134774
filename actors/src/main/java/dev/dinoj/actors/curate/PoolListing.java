package dev.dinoj.actors.curate;

import akka.stream.javadsl.Sink;
import com.typesafe.config.Config;
import dev.dinoj.actors.data.StorageSystem;
import dev.dinoj.pipeline.storage.Backoff;
import dev.dinoj.pipeline.storage.ObjectInfo;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one listing of a curation pool the driver partitions. Its S3 requests are retried inside Alpakka S3
 * ({@code dinoj.storage.retry}); a listing that still fails transiently (a connection cut between pages, a 503 after
 * those retries) is started again with backoff, as many times and as long as that block says; a 403 or 404 fails the
 * curation at once. Blocking: runs on the driver's own thread, never the actor's.
 */
final class PoolListing {
    private static final Logger log = LoggerFactory.getLogger(PoolListing.class);

    private PoolListing() {}

    /**
     * The keys of pool {@code source}, with the storage settings of {@code app}.
     *
     * @throws IllegalStateException naming the pool when the listing fails or finds no object
     */
    static Set<String> keys(String source, Config app) {
        StorageSettings ss = StorageSettings.fromConfig(app);
        List<ObjectInfo> all;
        try {
            all = Backoff.retry(
                    ss.retry(),
                    () -> {
                        try (ObjectStores.Location src =
                                ObjectStores.open(StorageUri.parse(source), ss, StorageSystem.get(app))) {
                            return src.store()
                                    .list(src.prefix())
                                    .runWith(Sink.seq(), StorageSystem.get(app))
                                    .toCompletableFuture()
                                    .join();
                        }
                    },
                    (attempt, cause) -> log.warn(
                            "Listing {} failed (attempt {}), trying again: {}", source, attempt, cause.getMessage()));
        } catch (RuntimeException e) {
            throw new IllegalStateException(
                    "listing " + source + " failed: " + CurationDriver.unwrap(e).getMessage(), e);
        }
        Set<String> keys = new HashSet<>();
        for (ObjectInfo o : all) {
            keys.add(o.key());
        }
        if (keys.isEmpty()) {
            throw new IllegalStateException("listing " + source + " failed: the pool " + source + " has no objects");
        }
        return keys;
    }
}
