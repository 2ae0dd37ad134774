/**
 * Vector search over embeddings: {@link dev.dinoj.pipeline.search.FlatIndex} (exact inner-product top-k by batched
 * DJL matmul, chunked so the score blocks stay within a memory budget) and
 * {@link dev.dinoj.pipeline.search.IvfIndex} (an inverted-file approximate index: k-means coarse quantiser, each
 * probed list scanned by one matmul per list), with {@link dev.dinoj.pipeline.search.Neighbors#recallAgainst} to
 * report the approximate index's recall against the exact one.
 *
 * <p>Vectors are {@link dev.dinoj.pipeline.search.FloatMatrix} rows; with L2-normalised rows the inner product is the
 * cosine similarity.
 */
package dev.dinoj.pipeline.search;
