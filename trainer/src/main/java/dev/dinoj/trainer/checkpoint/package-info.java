/**
 * Checkpoints on disk, atomically and checksummed: the single-process format and the sharded format (loadable with
 * any number of ranks) under one layout ({@code RUN/checkpoints/step-N}); they save and restore a {@code TrainState} /
 * {@code ShardedTrainState}, which the training step implements, so nothing here depends on the step.
 */
package dev.dinoj.trainer.checkpoint;
