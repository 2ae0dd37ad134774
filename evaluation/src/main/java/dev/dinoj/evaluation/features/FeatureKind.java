package dev.dinoj.evaluation.features;

/**
 * Which tokens of a frozen backbone form the feature vector of an image (the cache key includes it).
 *
 * <p>Every token is taken after the backbone's final norm, as dinov2's {@code forward_features} and
 * {@code get_intermediate_layers(..., norm=True)} give them.
 */
public enum FeatureKind {
    /** {@code x_norm_clstoken} (D): the k-NN feature. */
    CLS("cls"),
    /** CLS followed by the mean of the patch tokens (2D). */
    CLS_AVGPOOL("cls+avgpool"),
    /** The resized, normalised image (3·S·S): the no-learning baseline. Needs no backbone. */
    PIXELS("pixels"),
    /**
     * The linear probe's input ({@code dinov2/eval/linear.py}, {@code create_linear_input}): the CLS tokens of the
     * last {@code n = min(4, depth)} blocks, oldest first, then the mean of the last block's patch tokens;
     * ((n + 1)·D). Every probe head reads a contiguous slice of it.
     */
    LAST_BLOCKS("last-blocks"),
    /**
     * All patch tokens, row-major over the patch grid ((S/p)²·D). Without a backbone: the patches of the
     * normalised image ((S/p)²·3·p·p), the dense probe's pixel baseline.
     */
    PATCH_TOKENS("patch-tokens");

    private final String label;

    FeatureKind(String label) {
        this.label = label;
    }

    /** @return the name used on the command line and in cache keys */
    public String label() {
        return label;
    }

    /**
     * The kind of a command-line name.
     *
     * @param s one of {@code cls}, {@code cls+avgpool}, {@code pixels}, {@code last-blocks}, {@code patch-tokens}
     * @return the kind
     */
    public static FeatureKind parse(String s) {
        for (FeatureKind k : values()) {
            if (k.label.equals(s)) {
                return k;
            }
        }
        throw new IllegalArgumentException(
                "unknown feature kind '" + s + "': use cls, cls+avgpool, pixels, " + "last-blocks or patch-tokens");
    }
}
