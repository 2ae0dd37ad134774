/**
 * Tensor files: NumPy {@code .npy}/{@code .npz} (the reference fixtures) and safetensors (checkpoints, exported and
 * imported weights), read and written without a model.
 */
package dev.dinoj.trainer.io;
