package dev.dinoj.pipeline.ingest;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Locale;

/** The one state every source object (and every image of an expanded archive) ends in. */
public enum ObjectState {
    /** Decoded and embedded; a candidate for the curated set. */
    INGESTED("ingested"),
    /** Same bytes as another object ({@code duplicate_of} names the one kept: the smallest key). */
    EXACT_DUPLICATE("exact_duplicate"),
    /** A copy of another image by embedding similarity ({@code duplicate_of} names the representative). */
    NEAR_DUPLICATE("near_duplicate"),
    /** Looks like an image (or archive) but cannot be decoded: truncated, damaged, empty. */
    CORRUPT("corrupt"),
    /** Not PNG, JPEG, GIF, BMP, WebP or IDX content (text, other binaries). */
    NOT_AN_IMAGE("not_an_image"),
    /** Over a size guard: object bytes, decoded pixels, or what a gzip stream expands to (decompression bombs). */
    TOO_LARGE("too_large"),
    /** Excluded by a rule: key filter, minimum image side, or the object vanished after the listing. */
    FILTERED("filtered"),
    /**
     * The store refused to serve it (S3 403 and other 4xx on its GET: a per-object ACL, a KMS key the reader lacks);
     * the next run over the same manifest tries it again.
     */
    UNREADABLE("unreadable"),
    /**
     * A copy of an image of a set curation was told to keep out ({@code curate --exclude}: the test split, the query
     * set), as LVD-142M was deduplicated against its benchmarks; the reason names the image.
     */
    EXCLUDED("excluded");

    private final String id;

    ObjectState(String id) {
        this.id = id;
    }

    /** The name used in manifests and summaries. */
    @JsonValue
    public String id() {
        return id;
    }

    /** Parses {@link #id()} (case-insensitive, '-' or '_'). */
    public static ObjectState of(String id) {
        String n = id.trim().toLowerCase(Locale.ROOT).replace('-', '_');
        for (ObjectState s : values()) {
            if (s.id.equals(n)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown object state " + id);
    }
}
