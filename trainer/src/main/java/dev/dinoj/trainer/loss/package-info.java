/**
 * The DINOv2 losses (dinov2 {@code loss/}): DINO cross-entropy, iBOT patch loss, KoLeo, DINOv3 Gram anchoring;
 * teacher centering by softmax centers or Sinkhorn-Knopp; {@code GlobalSum}, the seam through which their statistics are
 * summed over ranks.
 */
package dev.dinoj.trainer.loss;
