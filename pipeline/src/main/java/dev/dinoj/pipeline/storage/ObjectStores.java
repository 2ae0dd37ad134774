package dev.dinoj.pipeline.storage;

import akka.actor.ActorSystem;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Opens the store behind a {@link StorageUri}, and creates the actor system the streams run on. */
public final class ObjectStores {
    private ObjectStores() {}

    /**
     * A store and the key prefix inside it that a URI names.
     *
     * @param store  the bucket or directory
     * @param prefix the key prefix ({@code ""} for a whole directory; a file name for a single local file)
     * @param uri    the URI it came from
     */
    public record Location(ObjectStore store, String prefix, StorageUri uri) implements AutoCloseable {
        /** The key of {@code child} under the prefix ({@code prefix/child}, or {@code child} when the prefix is empty). */
        public String key(String child) {
            if (prefix.isEmpty()) {
                return child;
            }
            return prefix.endsWith("/") ? prefix + child : prefix + "/" + child;
        }

        @Override
        public void close() {
            store.close();
        }
    }

    /**
     * Opens {@code uri}: an S3 bucket with the URI's path as the prefix, or a local directory (the prefix is empty), or
     * a local file (its directory, with the file name as the prefix).
     */
    public static Location open(StorageUri uri, StorageSettings settings, ActorSystem system) {
        if (uri.isS3()) {
            return new Location(new S3ObjectStore(system, uri.bucket(), settings), uri.path(), uri);
        }
        Path p = uri.localPath();
        if (Files.isRegularFile(p)) {
            return new Location(
                    new LocalObjectStore(p.getParent()), p.getFileName().toString(), uri);
        }
        return new Location(new LocalObjectStore(p), "", uri);
    }

    /**
     * An actor system for storage streams: SLF4J logging, and an HTTP connection pool of
     * {@code settings.maxConnections()} connections per endpoint, without akka-http's own request retries (Alpakka S3
     * retries with backoff), on top of {@code config}.
     */
    public static ActorSystem createSystem(String name, Config config, StorageSettings settings) {
        int conns = settings.maxConnections();
        int open = Integer.highestOneBit(Math.max(32, conns * 4) - 1) << 1; // a power of two, as akka-http requires
        Config overrides = ConfigFactory.parseMap(Map.of(
                "akka.loggers",
                List.of("akka.event.slf4j.Slf4jLogger"),
                "akka.logging-filter",
                "akka.event.slf4j.Slf4jLoggingFilter",
                "akka.stdout-loglevel",
                "WARNING",
                "akka.http.host-connection-pool.max-connections",
                conns,
                "akka.http.host-connection-pool.max-open-requests",
                open,
                // one retry layer: Alpakka S3's, with backoff (dinoj.storage.retry), not akka-http's immediate re-sends
                // too
                "akka.http.host-connection-pool.max-retries",
                0,
                "akka.coordinated-shutdown.exit-jvm",
                "off"));
        return ActorSystem.create(name, overrides.withFallback(config).resolve());
    }

    /**
     * Closes the HTTP connection pools, then terminates {@code system} and waits (up to 30 s) for it: terminating with
     * open pools makes akka-http log "pool has shut down unexpectedly".
     */
    public static void terminate(ActorSystem system) {
        try {
            akka.http.javadsl.Http.get(system)
                    .shutdownAllConnectionPools()
                    .toCompletableFuture()
                    .get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            // best effort: terminate anyway
        }
        system.terminate();
        try {
            system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // already logged by Akka
        }
    }

    /** {@link #createSystem(String, Config, StorageSettings)} on {@code ConfigFactory.load()}. */
    public static ActorSystem createSystem(String name, StorageSettings settings) {
        return createSystem(name, ConfigFactory.load(), settings);
    }
}
