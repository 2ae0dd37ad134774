package dev.dinoj.trainer.verify;

import dev.dinoj.trainer.model.Precision;

/**
 * How far a replay may be from the official step, per kind of quantity: relative errors (‖Δ‖₂ / ‖ref‖₂ for tensors)
 * except {@code forwardAbs} (max |Δ| of the teacher forward) and the parameter bound {@code paramStepRel · ‖step‖₂ +
 * paramAbsRel · ‖ref‖₂} (the step is the official update of that parameter).
 *
 * @param lossRel      losses
 * @param gradRel      gradients before clipping
 * @param paramStepRel updated parameters, relative to the official update
 * @param paramAbsRel  updated parameters, relative to the parameter
 * @param centerRel    softmax centers
 * @param forwardAbs   teacher forward at two resolutions
 * @param gradNormRel  per-submodule gradient norms
 */
public record Tolerances(
        double lossRel,
        double gradRel,
        double paramStepRel,
        double paramAbsRel,
        double centerRel,
        double forwardAbs,
        double gradNormRel) {

    /** float32: the fixture README's tolerances (≥ 15× the float32-vs-float64 difference of the official code). */
    public static final Tolerances FP32 = new Tolerances(1e-4, 1e-3, 1e-2, 1e-6, 1e-4, 1e-4, 1e-3);

    /**
     * bfloat16 mixed precision against the official float32 step, about 3× the largest error measured on the two
     * fixtures with either attention kernel (docs/TRAINING.md, "Precision and attention"): losses 5.5e-3, gradients
     * 2.0e-2, gradient norms 1.0e-2, centers 9.1e-3, teacher forward 1.9e-2 (max |Δ|). Updated parameters: 0.73 of
     * the official update (2× margin), reached by the attention's qkv bias, whose key part has an exact gradient of 0
     * (softmax is shift-invariant), so its gradient is rounding noise and so is AdamW's normalised update of it; every
     * other parameter is within 0.29 of its update. bfloat16 keeps 8 significant bits (2⁻⁹ ≈ 2e-3 relative rounding
     * per product input).
     */
    public static final Tolerances BF16 = new Tolerances(2e-2, 6e-2, 1.5, 1e-6, 3e-2, 6e-2, 3e-2);

    /** The bounds for a replay in {@code p}. */
    public static Tolerances of(Precision p) {
        return p == Precision.BF16 ? BF16 : FP32;
    }
}
