package dev.dinoj.trainer.model;

import ai.djl.ndarray.NDArray;

/**
 * dinov2 {@code forward_features} outputs.
 *
 * @param clsToken    {@code x_norm_clstoken} (B, D)
 * @param regTokens   {@code x_norm_regtokens} (B, R, D)
 * @param patchTokens {@code x_norm_patchtokens} (B, N, D)
 * @param prenorm     {@code x_prenorm} (B, 1 + R + N, D)
 */
public record BackboneOutput(NDArray clsToken, NDArray regTokens, NDArray patchTokens, NDArray prenorm) {}
