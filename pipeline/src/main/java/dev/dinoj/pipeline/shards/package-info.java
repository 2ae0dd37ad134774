/**
 * Embeddings spilled to disk or S3 in float16 shards, so that the global stages of curation (k-means, sampling) can
 * stream a pool that does not fit in one heap: {@link dev.dinoj.pipeline.shards.Float16} (IEEE binary16 conversion),
 * {@link dev.dinoj.pipeline.shards.EmbeddingShards} (the shard format, a writer with fixed rows per shard and a reader
 * that iterates blocks of rows from memory-mapped files or fetched objects), {@link dev.dinoj.pipeline.shards.ShardStore}
 * (a local directory or an {@link dev.dinoj.pipeline.storage.ObjectStore} prefix) and
 * {@link dev.dinoj.pipeline.shards.SyntheticPool} (a partitioned embeddings-only pool for benchmarks and tests).
 */
package dev.dinoj.pipeline.shards;
