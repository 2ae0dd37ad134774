package dev.dinoj.pipeline.embed;

import dev.dinoj.pipeline.data.RgbImage;

/**
 * The raw-pixel baseline as an embedder: the image as a {@code side × side} grayscale thumbnail (area-averaged), minus
 * a fixed mean (0.456, ImageNet's: as the evaluation's raw-pixel features are normalised), L2-normalised. Unlike
 * {@link ThumbnailEmbedder} it keeps the overall brightness, which helps semantic retrieval (on Fashion-MNIST its
 * neighbours are those of the 84.6 % raw-pixel k-NN baseline).
 */
public final class PixelEmbedder extends GrayThumbnailEmbedder {
    /** The fixed offset subtracted from every gray value. */
    public static final float MEAN = 0.456f;

    /** @param side thumbnail side in pixels (dimension {@code side²}) */
    public PixelEmbedder(int side) {
        super(side, "pixel embedder");
    }

    @Override
    public String id() {
        return "pixels-" + side;
    }

    @Override
    void project(RgbImage img, float[] v) {
        ThumbnailEmbedder.grayThumbnail(img, side, v);
        double norm = 0;
        for (int j = 0; j < v.length; j++) {
            v[j] -= MEAN;
            norm += (double) v[j] * v[j];
        }
        float inv = (float) (1 / Math.max(Math.sqrt(norm), 1e-12));
        for (int j = 0; j < v.length; j++) {
            v[j] *= inv;
        }
    }

    @Override
    public String toString() {
        return "PixelEmbedder[" + side + "x" + side + " gray - " + MEAN + ", L2]";
    }
}
