/**
 * The DINOv2 training step ({@code SslMetaArch}: student, EMA teacher, heads, losses, backward, clip, AdamW, EMA) and
 * the one training loop ({@code TrainLoop}) with its single-process driver ({@code TrainingRun}); batch recipes,
 * distillation teacher, Gram anchoring.
 */
package dev.dinoj.trainer.train;
