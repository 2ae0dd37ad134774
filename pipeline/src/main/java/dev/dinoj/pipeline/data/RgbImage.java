package dev.dinoj.pipeline.data;

/**
 * A decoded image: 3 channels, channel-major (CHW) floats in [0, 1].
 *
 * <p>{@code chw[c * height * width + y * width + x]} is channel {@code c} (0 = R, 1 = G, 2 = B) of pixel
 * {@code (x, y)}. Grayscale sources are expanded to three identical channels, as PIL's
 * {@code convert("RGB")} does in torchvision's default loader. The array is shared, not copied: treat it as
 * read-only.
 *
 * @param width  pixels per row, &gt; 0
 * @param height rows, &gt; 0
 * @param chw    {@code 3 * height * width} values, each finite and in [0, 1]
 */
public record RgbImage(int width, int height, float[] chw) {
  /** Number of channels: always 3. */
  public static final int CHANNELS = 3;

  public RgbImage {
    if (width <= 0 || height <= 0) {
      throw new IllegalArgumentException("image size must be positive: " + width + "x" + height);
    }
    if (chw == null) {
      throw new IllegalArgumentException("chw must not be null");
    }
    if (chw.length != (long) CHANNELS * width * height) {
      throw new IllegalArgumentException("chw has " + chw.length + " values, expected 3*" + height + "*" + width
          + " = " + (long) CHANNELS * width * height);
    }
    for (int i = 0; i < chw.length; i++) {
      float v = chw[i];
      if (!(v >= 0f && v <= 1f)) { // also rejects NaN
        throw new IllegalArgumentException("chw[" + i + "] = " + v + " is outside [0, 1]");
      }
    }
  }

  /** Pixels per channel: {@code width * height}. */
  public int planeSize() {
    return width * height;
  }

  /** Value of channel {@code c} at column {@code x}, row {@code y}. */
  public float get(int c, int x, int y) {
    return chw[(c * height + y) * width + x];
  }

  /** Expands an 8-bit grayscale plane ({@code height * width} bytes from {@code offset}) to 3 equal channels. */
  public static RgbImage fromGray8(int width, int height, byte[] gray, int offset) {
    int plane = width * height;
    float[] chw = new float[CHANNELS * plane];
    for (int i = 0; i < plane; i++) {
      float v = (gray[offset + i] & 0xff) / 255f;
      chw[i] = v;
      chw[plane + i] = v;
      chw[2 * plane + i] = v;
    }
    return new RgbImage(width, height, chw);
  }

  @Override
  public String toString() {
    return "RgbImage[" + width + "x" + height + "]";
  }
}
