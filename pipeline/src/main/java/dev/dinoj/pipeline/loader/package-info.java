/**
 * Feeding the training loop: {@link dev.dinoj.pipeline.loader.EpochSampler} (a resumable, deterministic
 * infinite stream of dataset indices) and {@link dev.dinoj.pipeline.loader.BatchLoader} (background multi-crop
 * augmentation and collation with a bounded prefetch queue).
 *
 * <p>Reproducibility contract: every random stream is derived from the run seed and a position in the data
 * stream (sample position for augmentation, step for collation), never from thread scheduling, so batches
 * are bitwise identical for any thread count and after a restart from a checkpointed position — which
 * dinov2's sampler-with-restart cannot promise.
 */
package dev.dinoj.pipeline.loader;
