package dev.dinoj.trainer.model;

/**
 * DINO / iBOT projection head (dinov2/layers/dino_head.py): {@code nlayers}-layer MLP with GELU → L2 normalise →
 * weight-normalised linear onto {@code prototypes}.
 */
public record HeadConfig(int inDim, int prototypes, int hiddenDim, int bottleneckDim, int nlayers) {

    public HeadConfig {
        if (inDim <= 0 || prototypes <= 0 || hiddenDim <= 0 || bottleneckDim <= 0 || nlayers < 1) {
            throw new IllegalArgumentException("head dimensions must be positive and nlayers >= 1: " + this);
        }
    }
}
