/**
 * Image embedders of curation and ingestion: one vector per decoded image, L2-normalised, in batches
 * ({@link dev.dinoj.pipeline.embed.Embedder}); raw pixels, colour and grey thumbnails, and the copy + retrieval
 * composite that ingestion computes in one decode. A trained ViT embedder lives in the evaluation module.
 */
package dev.dinoj.pipeline.embed;
