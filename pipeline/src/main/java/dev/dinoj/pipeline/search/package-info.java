/**
 * Vector search over embeddings: {@link dev.dinoj.pipeline.search.FlatIndex} (exact inner-product top-k by blocked
 * GEMMs, chunked so the score blocks stay within a memory budget), {@link dev.dinoj.pipeline.search.KMeans} and
 * {@link dev.dinoj.pipeline.search.IvfIndex} (an inverted-file approximate index: k-means coarse quantiser, each
 * probed list scanned by one matmul per list), with {@link dev.dinoj.pipeline.search.Neighbors#recallAgainst} to
 * report the approximate index's recall against the exact one.
 *
 * <p>Vectors are {@link dev.dinoj.pipeline.search.FloatMatrix} rows; with L2-normalised rows the inner product is the
 * cosine similarity. The exact search and the k-means assignment run as single calls of
 * {@link dev.dinoj.pipeline.compute.SearchKernels} (GEMM + fused top-k / arg-max), in float32 or with bfloat16 GEMMs
 * whose candidates are re-scored in float32 ({@link dev.dinoj.pipeline.search.Precision}).
 */
package dev.dinoj.pipeline.search;
