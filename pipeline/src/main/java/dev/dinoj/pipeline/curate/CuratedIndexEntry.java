package dev.dinoj.pipeline.curate;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * One line of a curated dataset's {@code index.jsonl}: where image {@code i} lies in the shards.
 *
 * @param i       position in the curated set (0-based, the {@code ImageDataset} index)
 * @param key     source object key (archive members: {@code <archive>#<n>})
 * @param shard   shard path relative to the dataset root ({@code shards/shard-000000.tar})
 * @param offset  byte offset of the image data inside the shard
 * @param length  bytes of image data
 * @param format  png | jpeg | gif | bmp | webp: the stored bytes' format
 * @param sha256  hex SHA-256 of the source content
 * @param cluster cluster ids, coarsest level first, or null
 * @param why     why the image was kept
 * @param width   stored width in pixels (null in sets curated before it was recorded)
 * @param height  stored height in pixels (as {@code width})
 * @param source  the source object when the stored bytes are a re-encoding of it ({@code curate.store.max-side}),
 *                else null: then the stored bytes are the source's
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CuratedIndexEntry(
        int i,
        String key,
        String shard,
        long offset,
        int length,
        String format,
        String sha256,
        int[] cluster,
        String why,
        Integer width,
        Integer height,
        Source source) {

    /**
     * The source of a re-encoded image.
     *
     * @param format png | jpeg | gif | bmp | webp
     * @param bytes  size of the source object
     * @param width  width in the source's header
     * @param height height in the source's header
     */
    public record Source(String format, long bytes, int width, int height) {}
}
