/**
 * Curation on embeddings (the DINOv2 paper's LVD-142M recipe and ssl-data-curation's automatic curation), independent
 * of any model through {@link dev.dinoj.pipeline.curate.Embedder}.
 *
 * <p>{@link dev.dinoj.pipeline.curate.CurateJob} runs it all: ingest the pool (and the queries), then
 * {@link dev.dinoj.pipeline.curate.Curation}: exact dedup by content hash, copy detection
 * ({@link dev.dinoj.pipeline.curate.CopyDetector}), retrieval around query sets
 * ({@link dev.dinoj.pipeline.curate.Retrieval}), hierarchical k-means with resampling
 * ({@link dev.dinoj.pipeline.curate.HierarchicalKMeans}) and balanced sampling
 * ({@link dev.dinoj.pipeline.curate.BalancedSampler}); then {@link dev.dinoj.pipeline.curate.CuratedWriter} writes
 * tar shards, an index and the final manifest, which {@link dev.dinoj.pipeline.curate.CuratedDataset} reads back as
 * an {@code ImageDataset}.
 *
 * <p>A cluster curates partition by partition: {@link dev.dinoj.pipeline.curate.Partitions} splits the pool by key,
 * {@link dev.dinoj.pipeline.curate.PartitionMerge} merges and checks the partitions' results, and
 * {@link dev.dinoj.pipeline.curate.CurationRecord} records the finished curation.
 */
package dev.dinoj.pipeline.curate;
