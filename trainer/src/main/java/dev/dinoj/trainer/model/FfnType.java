package dev.dinoj.trainer.model;

import java.util.Locale;

/** Feed-forward layer of a ViT block, as dinov2's {@code ffn_layer}. */
public enum FfnType {
    /** {@code mlp}: fc1 → GELU → fc2, hidden = mlp_ratio · dim. */
    MLP,
    /** {@code swiglufused}: w12 → SiLU(x1)·x2 → w3, hidden = (int(hidden·2/3) + 7) // 8 · 8. */
    SWIGLU;

    public static FfnType parse(String s) {
        switch (s.toLowerCase(Locale.ROOT)) {
            case "mlp":
                return MLP;
            case "swiglu":
            case "swiglufused":
                return SWIGLU;
            default:
                throw new IllegalArgumentException("unknown ffn layer '" + s + "': use mlp or swiglufused");
        }
    }

    /** Hidden width of the feed-forward layer for a block of width {@code dim}. */
    public int hiddenDim(int dim, double mlpRatio) {
        int hidden = (int) (dim * mlpRatio);
        return this == MLP ? hidden : ((int) (hidden * 2.0 / 3.0) + 7) / 8 * 8;
    }
}
