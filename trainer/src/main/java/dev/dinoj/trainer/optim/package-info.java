/**
 * The optimiser: AdamW with the official parameter groups (layer-wise lr decay, patch-embed lr multiplier, no weight
 * decay on norms and biases, last-layer freeze), per-submodule gradient clipping; for sharded training the flat layout
 * of the parameters and AdamW over one shard of it, with the same formula.
 */
package dev.dinoj.trainer.optim;
