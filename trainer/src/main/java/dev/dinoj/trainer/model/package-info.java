/**
 * The models as functions of named parameters (dinov2 {@code layers/}, {@code models/vision_transformer.py}): the
 * parameter set under the official {@code state_dict} names, the ViT with its blocks, the DINO head, position-embedding
 * interpolation, initialisation. Nothing here knows about training, checkpoints or configuration files.
 */
package dev.dinoj.trainer.model;
