package dev.dinoj.pipeline.storage;

import java.util.Objects;

/**
 * One stored object as a listing reports it.
 *
 * @param key  the key in its store (S3: the full object key; local: the path relative to the store's root, with '/')
 * @param size bytes
 * @param etag the version tag: S3's ETag without quotes; for local files size and modification time, so a rewritten
 *             file gets a new tag
 */
public record ObjectInfo(String key, long size, String etag) {
    public ObjectInfo {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(etag, "etag");
    }

    /** S3 ETags arrive with or without surrounding quotes; they are kept without. */
    public static String normalizeEtag(String etag) {
        if (etag == null) {
            return "";
        }
        String e = etag.trim();
        if (e.length() >= 2 && e.startsWith("\"") && e.endsWith("\"")) {
            e = e.substring(1, e.length() - 1);
        }
        return e;
    }
}
