/**
 * Backbones in and out: a checkpoint's teacher, safetensors files in the official layout, random baselines; export in
 * the PyTorch hub layout.
 */
package dev.dinoj.trainer.weights;
