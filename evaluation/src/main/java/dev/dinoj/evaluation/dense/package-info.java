/**
 * The dense probe: a linear head on frozen patch tokens predicting per-patch foreground of Fashion-MNIST items,
 * scored by mIoU over patches and over pixels (logits upsampled bilinearly, as dinov2's linear segmentation head).
 */
package dev.dinoj.evaluation.dense;
