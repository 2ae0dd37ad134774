package dev.dinoj.trainer.model;

/**
 * How the model computes: number format and attention kernel ({@code train.precision}, {@code model.attention}).
 *
 * @param precision float32 or bfloat16 mixed precision
 * @param attention fused SDPA or the DJL composition
 */
public record Compute(Precision precision, AttentionKernel attention) {

    /** The defaults: float32, fused attention. */
    public static final Compute DEFAULT = new Compute(Precision.FP32, AttentionKernel.SDPA);

    public Compute {
        if (precision == null || attention == null) {
            throw new IllegalArgumentException("precision and attention must be set");
        }
    }

    /** Whether any part of the model runs through TorchScript kernels (everything but float32 manual attention). */
    public boolean usesKernels() {
        return precision == Precision.BF16 || attention == AttentionKernel.SDPA;
    }

    public Compute withPrecision(Precision p) {
        return new Compute(p, attention);
    }

    public Compute withAttention(AttentionKernel a) {
        return new Compute(precision, a);
    }

    @Override
    public String toString() {
        return precision.key() + "/" + attention.key();
    }
}
