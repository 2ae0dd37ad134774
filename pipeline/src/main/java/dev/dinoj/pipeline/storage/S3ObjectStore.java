package dev.dinoj.pipeline.storage;

import akka.NotUsed;
import akka.actor.ActorSystem;
import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import akka.japi.Pair;
import akka.stream.Attributes;
import akka.stream.StreamLimitReachedException;
import akka.stream.alpakka.s3.BucketAccess;
import akka.stream.alpakka.s3.MultipartUploadSettings;
import akka.stream.alpakka.s3.ObjectMetadata;
import akka.stream.alpakka.s3.S3Attributes;
import akka.stream.alpakka.s3.S3Exception;
import akka.stream.alpakka.s3.S3Settings;
import akka.stream.alpakka.s3.javadsl.S3;
import akka.stream.javadsl.FileIO;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import akka.util.ByteString;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One S3 bucket through Alpakka S3, against AWS or any S3-compatible endpoint (S3Proxy, MinIO). Alpakka retries every
 * request (multipart parts included) after a connection failure or a 5xx answer, with the backoff of
 * {@link StorageSettings#retry()}; that is the only retry layer (akka-http's own re-sends are off, see
 * {@link ObjectStores#createSystem}). What is left fails with a {@link StorageException} of the right kind.
 *
 * <p>The Alpakka settings are built from {@link StorageSettings} on top of the actor system's {@code alpakka.s3}
 * block, so one JVM can talk to several endpoints.
 */
public final class S3ObjectStore implements ObjectStore {
    private final ActorSystem system;
    private final String bucket;
    private final StorageSettings settings;
    private final Attributes attributes;

    /**
     * @param system   runs the streams (its {@code akka.http} pool settings apply)
     * @param bucket   the bucket
     * @param settings endpoint, region, credentials, retries
     */
    public S3ObjectStore(ActorSystem system, String bucket, StorageSettings settings) {
        this.system = system;
        this.bucket = bucket;
        this.settings = settings;
        this.attributes = S3Attributes.settings(alpakkaSettings(system, settings));
    }

    /** Alpakka {@link S3Settings} for {@code s} on top of the system's {@code alpakka.s3} defaults. */
    static S3Settings alpakkaSettings(ActorSystem system, StorageSettings s) {
        Map<String, Object> m = new HashMap<>();
        if (!s.endpoint().isEmpty()) {
            m.put("endpoint-url", s.endpoint());
        }
        m.put("access-style", s.pathStyle() ? "path" : "virtual");
        m.put("aws.region.provider", "static");
        m.put("aws.region.default-region", s.region());
        if (s.accessKeyId().isEmpty()) {
            m.put("aws.credentials.provider", "default");
        } else {
            m.put("aws.credentials.provider", "static");
            m.put("aws.credentials.access-key-id", s.accessKeyId());
            m.put("aws.credentials.secret-access-key", s.secretAccessKey());
            if (!s.sessionToken().isEmpty()) {
                m.put("aws.credentials.token", s.sessionToken());
            }
        }
        Config c = ConfigFactory.parseMap(m)
                .withFallback(system.settings().config().getConfig("alpakka.s3"));
        return S3Settings.create(c)
                .withRetrySettings(s.retry())
                .withMultipartUploadSettings(MultipartUploadSettings.create(s.retry()));
    }

    public String bucket() {
        return bucket;
    }

    @Override
    public String describe() {
        return "s3://" + bucket + " (" + settings.describe() + ")";
    }

    @Override
    public StorageUri uriOf(String key) {
        return new StorageUri(StorageUri.S3, bucket, key);
    }

    private String where(String key) {
        return "s3://" + bucket + "/" + key;
    }

    @Override
    public Source<ObjectInfo, NotUsed> list(String prefix) {
        return S3.listBucket(bucket, prefix.isEmpty() ? Optional.empty() : Optional.of(prefix))
                .withAttributes(attributes)
                .filter(c -> !c.getKey().endsWith("/")) // "folder" markers (S3 consoles, jclouds' filesystem backend)
                .map(c -> new ObjectInfo(c.getKey(), c.getSize(), ObjectInfo.normalizeEtag(c.getETag())))
                .mapError(new akka.japi.pf.PFBuilder<Throwable, Throwable>()
                        .match(
                                Throwable.class,
                                t -> !(t instanceof StorageException),
                                t -> classify("LIST " + where(prefix), t))
                        .build());
    }

    @Override
    public CompletionStage<Optional<ObjectInfo>> head(String key) {
        return S3.getObjectMetadata(bucket, key)
                .withAttributes(attributes)
                .runWith(Sink.head(), system)
                .thenApply(o -> o.map(md -> new ObjectInfo(
                        key,
                        md.getContentLength(),
                        ObjectInfo.normalizeEtag(md.getETag().orElse("")))))
                .exceptionally(t -> {
                    throw classify("HEAD " + where(key), t);
                });
    }

    @Override
    public CompletionStage<Blob> get(String key, long maxBytes) {
        Pair<CompletionStage<ObjectMetadata>, CompletionStage<ByteString>> r = S3.getObject(bucket, key)
                .withAttributes(attributes)
                .limitWeighted(maxBytes, bs -> (long) bs.size())
                .toMat(Sink.fold(ByteString.emptyByteString(), ByteString::concat), Keep.both())
                .run(system);
        return r.second()
                .thenCombine(
                        r.first(),
                        (bytes, md) -> new Blob(
                                bytes.toArray(),
                                ObjectInfo.normalizeEtag(md.getETag().orElse(""))))
                .exceptionally(t -> {
                    throw classify("GET " + where(key), t);
                });
    }

    @Override
    public CompletionStage<ObjectInfo> put(String key, byte[] data, String contentType) {
        return S3.putObject(
                        bucket, key, Source.single(ByteString.fromArray(data)), data.length, contentType(contentType))
                .withAttributes(attributes)
                .runWith(Sink.head(), system)
                .thenApply(md -> new ObjectInfo(
                        key, data.length, ObjectInfo.normalizeEtag(md.getETag().orElse(""))))
                .exceptionally(t -> {
                    throw classify("PUT " + where(key), t);
                });
    }

    @Override
    public CompletionStage<ObjectInfo> putFile(String key, Path file, String contentType) {
        long size;
        try {
            size = Files.size(file);
        } catch (IOException e) {
            return CompletableFuture.failedFuture(
                    new StorageException(StorageException.Kind.PERMANENT, file + ": cannot read: " + e, e));
        }
        return FileIO.fromPath(file)
                .runWith(
                        S3.multipartUpload(bucket, key, contentType(contentType))
                                .withAttributes(attributes),
                        system)
                .thenApply(r -> new ObjectInfo(key, size, ObjectInfo.normalizeEtag(r.getETag())))
                .exceptionally(t -> {
                    throw classify("PUT " + where(key), t);
                });
    }

    @Override
    public CompletionStage<ObjectInfo> getToFile(String key, Path file) {
        Path tmp;
        try {
            Path parent = file.toAbsolutePath().getParent();
            Files.createDirectories(parent);
            tmp = Files.createTempFile(parent, "." + file.getFileName(), ".part");
        } catch (IOException e) {
            return CompletableFuture.failedFuture(
                    new StorageException(StorageException.Kind.PERMANENT, file + ": cannot write: " + e, e));
        }
        Pair<CompletionStage<ObjectMetadata>, CompletionStage<akka.stream.IOResult>> r = S3.getObject(bucket, key)
                .withAttributes(attributes)
                .toMat(FileIO.toPath(tmp), Keep.both())
                .run(system);
        return r.second()
                .thenCombine(r.first(), (io, md) -> {
                    try {
                        try {
                            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                        } catch (AtomicMoveNotSupportedException e) {
                            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
                        }
                    } catch (IOException e) {
                        throw new StorageException(StorageException.Kind.PERMANENT, file + ": cannot write: " + e, e);
                    }
                    return new ObjectInfo(
                            key,
                            io.getCount(),
                            ObjectInfo.normalizeEtag(md.getETag().orElse("")));
                })
                .exceptionally(t -> {
                    try {
                        Files.deleteIfExists(tmp);
                    } catch (IOException ignored) {
                        // best effort
                    }
                    throw classify("GET " + where(key), t);
                });
    }

    @Override
    public CompletionStage<Void> ensureContainer() {
        return S3.checkIfBucketExists(bucket, system, attributes)
                .thenCompose(access -> {
                    if (access == BucketAccess.notExists()) {
                        return S3.makeBucket(bucket, system, attributes).thenApply(d -> (Void) null);
                    }
                    if (access == BucketAccess.accessDenied()) {
                        throw new StorageException(
                                StorageException.Kind.PERMANENT,
                                "s3://" + bucket + ": access denied; check the credentials and the bucket policy ("
                                        + settings.describe() + ")");
                    }
                    return CompletableFuture.<Void>completedFuture(null);
                })
                .exceptionally(t -> {
                    throw classify("CREATE BUCKET s3://" + bucket, t);
                });
    }

    private static ContentType contentType(String type) {
        if (type == null || type.isEmpty()) {
            return ContentTypes.APPLICATION_OCTET_STREAM;
        }
        return ContentTypes.parse(type);
    }

    /** Maps an Alpakka/akka-http failure to a {@link StorageException} with the right {@link StorageException.Kind}. */
    static StorageException classify(String what, Throwable error) {
        Throwable t = StorageException.unwrap(error);
        if (t instanceof StorageException se) {
            return se;
        }
        if (t instanceof S3Exception s3) {
            int code = s3.statusCode().intValue();
            String msg = what + ": S3 " + code + " " + s3.code()
                    + (s3.message() == null || s3.message().isEmpty() ? "" : " (" + s3.message() + ")");
            if (code == 404) {
                return new StorageException(StorageException.Kind.NOT_FOUND, msg, t);
            }
            if (code == 408 || code == 429 || code >= 500) {
                return new StorageException(StorageException.Kind.TRANSIENT, msg, t);
            }
            return new StorageException(StorageException.Kind.PERMANENT, msg, t);
        }
        if (t instanceof StreamLimitReachedException) {
            return new StorageException(StorageException.Kind.TOO_LARGE, what + ": object larger than the limit", t);
        }
        // connection refused or reset, timeouts, truncated entities: the network or the server, worth another try
        return new StorageException(StorageException.Kind.TRANSIENT, what + ": " + t, t);
    }

    @Override
    public void close() {
        // the actor system belongs to the caller
    }

    @Override
    public String toString() {
        return describe();
    }
}
