package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.data.RgbImage;
import java.util.List;

/**
 * The raw-pixel baseline as an embedder: the image as a {@code side × side} grayscale thumbnail (area-averaged), minus
 * a fixed mean (0.456, ImageNet's: as the evaluation's raw-pixel features are normalised), L2-normalised. Unlike
 * {@link ThumbnailEmbedder} it keeps the overall brightness, which helps semantic retrieval (on Fashion-MNIST its
 * neighbours are those of the 84.6 % raw-pixel k-NN baseline).
 */
public final class PixelEmbedder implements Embedder {
  /** The fixed offset subtracted from every gray value. */
  public static final float MEAN = 0.456f;
  private final int side;

  /** @param side thumbnail side in pixels (dimension {@code side²}) */
  public PixelEmbedder(int side) {
    if (side < 2) {
      throw new IllegalArgumentException("pixel embedder side must be >= 2: " + side);
    }
    this.side = side;
  }

  @Override
  public int dim() {
    return side * side;
  }

  @Override
  public String id() {
    return "pixels-" + side;
  }

  @Override
  public float[] embed(List<RgbImage> images) {
    int d = dim();
    float[] out = new float[images.size() * d];
    float[] v = new float[d];
    for (int i = 0; i < images.size(); i++) {
      ThumbnailEmbedder.grayThumbnail(images.get(i), side, v);
      double norm = 0;
      for (int j = 0; j < d; j++) {
        v[j] -= MEAN;
        norm += (double) v[j] * v[j];
      }
      float inv = (float) (1 / Math.max(Math.sqrt(norm), 1e-12));
      for (int j = 0; j < d; j++) {
        out[i * d + j] = v[j] * inv;
      }
    }
    return out;
  }

  @Override
  public String toString() {
    return "PixelEmbedder[" + side + "x" + side + " gray - " + MEAN + ", L2]";
  }
}
