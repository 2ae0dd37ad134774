package dev.dinoj.trainer.loss;

/** Teacher centering ({@code train.centering}). */
public enum Centering {
    /** Softmax with an EMA center subtracted (DINO / dinov2 default config value "centering"). */
    SOFTMAX,
    /** Sinkhorn-Knopp, 3 iterations (the DINOv2 paper's choice). */
    SINKHORN_KNOPP;

    public static Centering parse(String s) {
        switch (s) {
            case "centering":
            case "softmax":
                return SOFTMAX;
            case "sinkhorn_knopp":
                return SINKHORN_KNOPP;
            default:
                throw new IllegalArgumentException("unknown centering '" + s + "': use centering or sinkhorn_knopp");
        }
    }
}
