package dev.dinoj.pipeline.embed;

import dev.dinoj.pipeline.data.RgbImage;

/**
 * The default copy-detection embedder ({@code copy:SIDE}, SIDE 24 by default): the image as a {@code side × side}
 * area-averaged grey thumbnail, minus its own mean, L2-normalised — the same vector as {@link ThumbnailEmbedder}, but
 * kept for {@code dev.dinoj.pipeline.curate.AlignedCopyDetector}, which does not compare these vectors by cosine: it
 * derives crop-window descriptors from them to find candidate pairs and then aligns each candidate pair (scale, offset,
 * horizontal flip) and scores it by normalised cross-correlation. Curation recognises this embedder by its class and
 * switches to that detector.
 */
public final class CopyEmbedder extends GrayThumbnailEmbedder {
    /** The thumbnail side when {@code copy:} gives none. */
    public static final int DEFAULT_SIDE = 24;

    /** @param side thumbnail side in pixels (dimension {@code side²}), at least 12 */
    public CopyEmbedder(int side) {
        super(side, "copy embedder");
        if (side < 12) {
            throw new IllegalArgumentException("copy embedder side must be >= 12: " + side);
        }
    }

    /** The thumbnail side. */
    public int side() {
        return side;
    }

    @Override
    public String id() {
        return "copy-" + side;
    }

    @Override
    void project(RgbImage img, float[] v) {
        ThumbnailEmbedder.thumbnail(img, side, v);
    }

    @Override
    public String toString() {
        return "CopyEmbedder[" + side + "x" + side + " gray, centred, L2; aligned verification]";
    }
}
