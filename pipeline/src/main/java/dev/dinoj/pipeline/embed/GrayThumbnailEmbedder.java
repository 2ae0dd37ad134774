package dev.dinoj.pipeline.embed;

import dev.dinoj.pipeline.data.RgbImage;
import java.util.List;

/**
 * Model-free embedders built on an area-averaged {@code side × side} grayscale thumbnail ({@link ThumbnailEmbedder},
 * {@link PixelEmbedder}): they differ only in how the thumbnail is centred and normalised ({@link #project}).
 */
abstract class GrayThumbnailEmbedder implements Embedder {
    final int side;

    GrayThumbnailEmbedder(int side, String what) {
        if (side < 2) {
            throw new IllegalArgumentException(what + " side must be >= 2: " + side);
        }
        this.side = side;
    }

    @Override
    public final int dim() {
        return side * side;
    }

    /** Writes the embedding of {@code img} into {@code v} (length {@code side²}). */
    abstract void project(RgbImage img, float[] v);

    @Override
    public final float[] embed(List<RgbImage> images) {
        int d = dim();
        float[] out = new float[images.size() * d];
        float[] v = new float[d];
        for (int i = 0; i < images.size(); i++) {
            project(images.get(i), v);
            System.arraycopy(v, 0, out, i * d, d);
        }
        return out;
    }
}
