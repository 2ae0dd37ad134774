package dev.dinoj.trainer.model;

import java.util.Locale;

/**
 * The number format of the model's matrix products ({@code train.precision}). Parameters, optimizer state, the
 * teacher EMA, losses, softmax/centering and Sinkhorn-Knopp stay float32 in both.
 */
public enum Precision {
    /** Everything in float32. */
    FP32,
    /**
     * bfloat16 mixed precision (torch.autocast's CPU policy, dinov2's FSDP policy for the matrix products): the
     * linear layers, attention and FFN of the backbones and the heads' MLP and prototype layer compute in bfloat16 on
     * bfloat16 copies of the float32 weights; LayerNorm, the residual stream, LayerScale, the heads' L2 normalisation
     * and everything after the heads stay float32, and the gradients arrive in float32 on the float32 parameters.
     */
    BF16;

    /** {@code fp32} or {@code bf16} (case-insensitive). */
    public static Precision parse(String s) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "fp32", "float32" -> FP32;
            case "bf16", "bfloat16" -> BF16;
            default -> throw new IllegalArgumentException("unknown precision '" + s + "': use fp32 or bf16");
        };
    }

    /** The configuration spelling. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }
}
