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
 * @param format  png | jpeg | gif | bmp
 * @param sha256  hex SHA-256 of the source content
 * @param cluster cluster ids, coarsest level first, or null
 * @param why     why the image was kept
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
        String why) {}
