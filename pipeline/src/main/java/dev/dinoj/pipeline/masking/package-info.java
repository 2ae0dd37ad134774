/**
 * iBOT block masking and batch collation: dinov2 {@code data/masking.py} ({@link
 * dev.dinoj.pipeline.masking.MaskingGenerator}) and {@code data/collate.py} {@code collate_data_and_cast}
 * ({@link dev.dinoj.pipeline.masking.Collator} → {@link dev.dinoj.pipeline.masking.CollatedBatch}).
 *
 * <p>Python's {@code random} calls become draws from a {@link java.util.random.RandomGenerator} passed in
 * (normally a {@link java.util.SplittableRandom}), in the
 * same order; the float32 arithmetic of the torch tensors involved is reproduced, so the mask counts match
 * the official code's for the same uniform draws.
 */
package dev.dinoj.pipeline.masking;
