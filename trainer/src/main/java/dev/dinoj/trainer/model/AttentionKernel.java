package dev.dinoj.trainer.model;

import java.util.Locale;

/** How attention is computed ({@code model.attention}). */
public enum AttentionKernel {
    /**
     * PyTorch's fused {@code scaled_dot_product_attention} (its CPU flash kernel): the (T × T) scores are never kept,
     * so activation memory grows linearly in the tokens; each block's attention and FFN branch is one TorchScript call
     * ({@link VitKernels}).
     */
    SDPA,
    /**
     * {@code softmax(Q·Kᵀ/√d)·V} from DJL operations (optionally in query chunks, {@link
     * VisionTransformer#withAttentionChunk}); the scores of every head are kept for the backward. In bf16 the same
     * arithmetic runs inside the TorchScript branch.
     */
    MANUAL;

    /** {@code sdpa} or {@code manual} (case-insensitive). */
    public static AttentionKernel parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "sdpa" -> SDPA;
            case "manual" -> MANUAL;
            default -> throw new IllegalArgumentException("unknown attention '" + s + "': use sdpa or manual");
        };
    }

    /** The configuration spelling. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }
}
