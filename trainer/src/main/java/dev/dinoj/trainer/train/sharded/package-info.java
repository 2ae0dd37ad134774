/**
 * The FSDP-like sharded training step ({@code SHARD_GRAD_OP}): flat parameter layout with a contiguous shard per
 * rank, reduce-scatter of gradients, global per-submodule gradient norms, AdamW on the local shard, all-gather of
 * the parameters, local EMA teacher; statistics of Sinkhorn-Knopp and the centers summed over ranks; sharded
 * checkpoints with global offsets that load with any world size.
 */
package dev.dinoj.trainer.train.sharded;
