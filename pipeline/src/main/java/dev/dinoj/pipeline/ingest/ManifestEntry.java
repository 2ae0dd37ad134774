package dev.dinoj.pipeline.ingest;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Objects;

/**
 * One line of a manifest: a source object (or one image of an expanded archive, key {@code <archive key>#<index>})
 * and what became of it.
 *
 * @param key         the object key; an archive member is {@code <archive key>#<index>}
 * @param etag        the object's ETag when it was read (an archive member carries its archive's)
 * @param size        object bytes (a member: its pixel bytes)
 * @param sha256      hex SHA-256 of the content (members: of their pixels and shape); null when not read
 * @param state       the one state
 * @param detail      why, in words, for anything but {@code ingested}; the archive size for archives
 * @param duplicateOf the kept object, for exact and near duplicates
 * @param format      png | jpeg | gif | bmp | idx | idx-archive, when recognised
 * @param width       pixels, when decoded
 * @param height      pixels, when decoded
 * @param members     images in an expanded archive (the archive's own line)
 * @param cluster     cluster ids from the coarsest level down to the finest (output manifest), or null
 * @param kept        true when in the curated set (output manifest)
 * @param why         why it is in the curated set: {@code query:<key>}, {@code cluster:<id>}, {@code balanced:<path>}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ManifestEntry(
        String key,
        String etag,
        long size,
        String sha256,
        ObjectState state,
        String detail,
        String duplicateOf,
        String format,
        Integer width,
        Integer height,
        Integer members,
        int[] cluster,
        Boolean kept,
        String why) {

    public ManifestEntry {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(state, "state");
    }

    /** An entry with only the object, a state and a detail. */
    public static ManifestEntry of(String key, String etag, long size, ObjectState state, String detail) {
        return new ManifestEntry(key, etag, size, null, state, detail, null, null, null, null, null, null, null, null);
    }

    public ManifestEntry withState(ObjectState s, String newDetail, String newDuplicateOf) {
        return new ManifestEntry(
                key,
                etag,
                size,
                sha256,
                s,
                newDetail,
                newDuplicateOf,
                format,
                width,
                height,
                members,
                cluster,
                kept,
                why);
    }

    public ManifestEntry withSha(String sha) {
        return new ManifestEntry(
                key, etag, size, sha, state, detail, duplicateOf, format, width, height, members, cluster, kept, why);
    }

    public ManifestEntry withImage(String fmt, int w, int h) {
        return new ManifestEntry(
                key, etag, size, sha256, state, detail, duplicateOf, fmt, w, h, members, cluster, kept, why);
    }

    public ManifestEntry withFormat(String fmt) {
        return new ManifestEntry(
                key, etag, size, sha256, state, detail, duplicateOf, fmt, width, height, members, cluster, kept, why);
    }

    public ManifestEntry withMembers(int n) {
        return new ManifestEntry(
                key, etag, size, sha256, state, detail, duplicateOf, format, width, height, n, cluster, kept, why);
    }

    public ManifestEntry withSelection(int[] clusterPath, boolean isKept, String reason) {
        return new ManifestEntry(
                key,
                etag,
                size,
                sha256,
                state,
                detail,
                duplicateOf,
                format,
                width,
                height,
                members,
                clusterPath,
                isKept ? Boolean.TRUE : Boolean.FALSE,
                reason);
    }

    /** True for the line of an expanded archive (its members have their own lines). */
    @JsonIgnore
    public boolean isArchive() {
        return members != null;
    }

    /** The archive key of a member ({@code a.gz#12} → {@code a.gz}), or null. */
    public static String archiveOf(String key) {
        int hash = key.lastIndexOf('#');
        return hash < 0 ? null : key.substring(0, hash);
    }

    /** The member index of a member key ({@code a.gz#12} → 12), or -1. */
    public static int memberIndexOf(String key) {
        int hash = key.lastIndexOf('#');
        if (hash < 0) {
            return -1;
        }
        try {
            return Integer.parseInt(key.substring(hash + 1));
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
