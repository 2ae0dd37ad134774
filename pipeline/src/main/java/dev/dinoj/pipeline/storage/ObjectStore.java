package dev.dinoj.pipeline.storage;

import akka.NotUsed;
import akka.stream.javadsl.Source;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * A flat namespace of objects addressed by key: one S3 bucket, or one local directory.
 *
 * <p>Operations are asynchronous and fail with a {@link StorageException} (possibly wrapped in a
 * {@code CompletionException}). The S3 store's requests are retried inside Alpakka S3 ({@code dinoj.storage.retry}),
 * so callers do not retry them again. Implementations are thread-safe.
 */
public interface ObjectStore extends AutoCloseable {

    /** One line for logs: the kind of store and where it is; never a credential. */
    String describe();

    /** The URI of key {@code key} in this store (for messages and manifests). */
    StorageUri uriOf(String key);

    /**
     * Every object whose key starts with {@code prefix}, in key order (S3's order: UTF-8 binary). Pages are fetched as
     * downstream demands them.
     */
    Source<ObjectInfo, NotUsed> list(String prefix);

    /** The object's metadata, or empty if there is none. */
    CompletionStage<Optional<ObjectInfo>> head(String key);

    /**
     * The whole object. Fails with {@link StorageException.Kind#NOT_FOUND} if it is missing and with
     * {@link StorageException.Kind#TOO_LARGE} as soon as more than {@code maxBytes} arrive.
     */
    CompletionStage<Blob> get(String key, long maxBytes);

    /** Stores {@code data} under {@code key}, replacing any object there. */
    CompletionStage<ObjectInfo> put(String key, byte[] data, String contentType);

    /** Streams a local file into {@code key} (multipart on S3), for shards and other large outputs. */
    CompletionStage<ObjectInfo> putFile(String key, Path file, String contentType);

    /** Streams {@code key} into a local file (replaced atomically). */
    CompletionStage<ObjectInfo> getToFile(String key, Path file);

    /** Creates the bucket (or directory) if it does not exist yet. */
    CompletionStage<Void> ensureContainer();

    @Override
    void close();

    /**
     * An object's bytes and version tag.
     *
     * @param data the content
     * @param etag the tag the read saw (normalised, see {@link ObjectInfo#normalizeEtag})
     */
    record Blob(byte[] data, String etag) {}
}
