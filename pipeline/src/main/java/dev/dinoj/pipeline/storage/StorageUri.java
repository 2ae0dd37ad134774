package dev.dinoj.pipeline.storage;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Where objects live: {@code s3://bucket/prefix} (an S3 bucket and a key prefix) or {@code file:///abs/path} (a local
 * directory, or a single local file). A plain path ({@code data/pool}, {@code /tmp/x}) is a {@code file:} URI.
 *
 * @param scheme {@code "s3"} or {@code "file"}
 * @param bucket the bucket for {@code s3}, null for {@code file}
 * @param path   the key prefix for {@code s3} (no leading '/', may be empty), the absolute path for {@code file}
 */
public record StorageUri(String scheme, String bucket, String path) {
    public static final String S3 = "s3";
    public static final String FILE = "file";
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

    public StorageUri {
        Objects.requireNonNull(scheme, "scheme");
        Objects.requireNonNull(path, "path");
        if (!scheme.equals(S3) && !scheme.equals(FILE)) {
            throw new IllegalArgumentException(
                    "unsupported scheme " + scheme + ": use s3://bucket/prefix or file:///path");
        }
        if (scheme.equals(S3) && (bucket == null || bucket.isEmpty())) {
            throw new IllegalArgumentException("s3 URI without a bucket: use s3://bucket/prefix");
        }
    }

    /**
     * Parses {@code s3://bucket[/prefix]}, {@code file:///path} or a plain local path.
     *
     * @throws IllegalArgumentException for another scheme or a malformed URI
     */
    public static StorageUri parse(String text) {
        Objects.requireNonNull(text, "uri");
        String t = text.trim();
        if (t.startsWith("s3://")) {
            String rest = t.substring("s3://".length());
            int slash = rest.indexOf('/');
            String bucket = slash < 0 ? rest : rest.substring(0, slash);
            String prefix = slash < 0 ? "" : rest.substring(slash + 1);
            if (bucket.isEmpty()) {
                throw new IllegalArgumentException(text + ": no bucket; use s3://bucket/prefix");
            }
            if (!BUCKET.matcher(bucket).matches()) {
                throw new IllegalArgumentException(text + ": '" + bucket + "' is not a valid S3 bucket name (3 to 63 "
                        + "lowercase letters, digits, '.' or '-', starting and ending with a letter or digit)");
            }
            return new StorageUri(S3, bucket, prefix);
        }
        if (t.startsWith("file:")) {
            try {
                return new StorageUri(
                        FILE,
                        null,
                        Path.of(new URI(t)).toAbsolutePath().normalize().toString());
            } catch (URISyntaxException | IllegalArgumentException e) {
                throw new IllegalArgumentException(
                        text + ": not a valid file URI (" + e.getMessage()
                                + "); use file:///absolute/path or a plain path",
                        e);
            }
        }
        int colon = t.indexOf("://");
        if (colon > 0) {
            throw new IllegalArgumentException(text + ": unsupported scheme " + t.substring(0, colon)
                    + "; use s3://bucket/prefix, file:///path or a plain path");
        }
        return new StorageUri(
                FILE, null, Path.of(t).toAbsolutePath().normalize().toString());
    }

    /** A local path as a URI. */
    public static StorageUri of(Path local) {
        return new StorageUri(FILE, null, local.toAbsolutePath().normalize().toString());
    }

    public boolean isS3() {
        return scheme.equals(S3);
    }

    /** The local path of a {@code file:} URI. */
    public Path localPath() {
        if (isS3()) {
            throw new IllegalStateException(this + " is not a local path");
        }
        return Path.of(path);
    }

    /** This location with {@code child} appended as a path segment ({@code s3://b/p} + {@code x} = {@code s3://b/p/x}). */
    public StorageUri resolve(String child) {
        if (isS3()) {
            String p = path.isEmpty() || path.endsWith("/") ? path + child : path + "/" + child;
            return new StorageUri(S3, bucket, p);
        }
        return new StorageUri(FILE, null, Path.of(path).resolve(child).toString());
    }

    @Override
    public String toString() {
        return isS3() ? "s3://" + bucket + "/" + path : Path.of(path).toUri().toString();
    }
}
