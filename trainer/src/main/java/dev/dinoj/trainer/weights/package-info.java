/**
 * Backbones in and out: a checkpoint's teacher; safetensors weights in every published layout (dinov2 hub / dinoj
 * export, Hugging Face transformers, timm), their layout detected from the names and their architecture inferred from
 * the shapes and metadata ({@link dev.dinoj.trainer.weights.BackboneFile}); a run's start from such weights
 * ({@link dev.dinoj.trainer.weights.PretrainedBackbone}); random baselines; export in the PyTorch hub layout.
 */
package dev.dinoj.trainer.weights;
