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

    /** {@code fp32}, {@code bf16} or {@code auto} (case-insensitive) for a CPU run. */
    public static Precision parse(String s) {
        return parse(s, false);
    }

    /**
     * {@code fp32}, {@code bf16} or {@code auto} (case-insensitive). {@code auto} is bf16 on a GPU and on CPUs with
     * native bfloat16 dot products ({@code avx512_bf16} or {@code amx_bf16}), where it is about twice as fast, and fp32
     * elsewhere, where emulated bfloat16 is slower than float32.
     */
    public static Precision parse(String s, boolean gpu) {
        return switch (s.toLowerCase(Locale.ROOT)) {
            case "fp32", "float32" -> FP32;
            case "bf16", "bfloat16" -> BF16;
            case "auto" ->
                gpu || dev.dinoj.pipeline.search.Precision.hardware() == dev.dinoj.pipeline.search.Precision.BFLOAT16
                        ? BF16
                        : FP32;
            default -> throw new IllegalArgumentException("unknown precision '" + s + "': use fp32, bf16 or auto");
        };
    }

    /** The configuration spelling. */
    public String key() {
        return name().toLowerCase(Locale.ROOT);
    }
}
