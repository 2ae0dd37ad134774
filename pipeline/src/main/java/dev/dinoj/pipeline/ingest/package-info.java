/**
 * Ingestion: a bucket prefix or a directory streamed with back-pressure into decoded images and a manifest in which
 * every object has exactly one {@link dev.dinoj.pipeline.ingest.ObjectState}.
 *
 * <p>{@link dev.dinoj.pipeline.ingest.IngestRun} is the Akka Streams graph: resilient paginated listing → bounded
 * parallel download with retries → decode (PNG/JPEG/GIF/BMP; IDX archives, gzipped or not, expanded into one image per
 * record) with guards against huge objects and decompression bombs → exact-duplicate detection by SHA-256 → batched
 * embedding through an {@link dev.dinoj.pipeline.curate.Embedder} → an append-only work
 * {@link dev.dinoj.pipeline.ingest.Manifest} and {@link dev.dinoj.pipeline.ingest.EmbeddingStore}. A re-run over the
 * same work directory skips every object already recorded with the same key and ETag, so a killed run resumes.
 */
package dev.dinoj.pipeline.ingest;
