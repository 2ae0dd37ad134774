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

    /**
     * RGB floats in [0, 1]; alpha is dropped, gray expands to three equal channels. Single-band gray rasters are read
     * directly (as {@code ImageFolderDataset} does): {@code getRGB} would apply a gamma conversion.
     */
    /**
     * A decoded AWT image as RGB: 1-channel images keep their exact grey levels (any bit depth, read from the raster,
     * since {@code getRGB} would apply a colour conversion), others go through {@code getRGB}.
     */
    public static RgbImage of(java.awt.image.BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        int plane = w * h;
        float[] chw = new float[3 * plane];
        java.awt.image.ColorModel cm = img.getColorModel();
        java.awt.image.Raster raster = img.getRaster();
        if (cm instanceof java.awt.image.ComponentColorModel && cm.getNumColorComponents() == 1) {
            float max = (1 << cm.getComponentSize(0)) - 1;
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                raster.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    float v = Math.min(row[x] / max, 1f);
                    int i = y * w + x;
                    chw[i] = v;
                    chw[plane + i] = v;
                    chw[2 * plane + i] = v;
                }
            }
        } else {
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                img.getRGB(0, y, w, 1, row, 0, w);
                for (int x = 0; x < w; x++) {
                    int argb = row[x];
                    int i = y * w + x;
                    chw[i] = ((argb >> 16) & 0xff) / 255f;
                    chw[plane + i] = ((argb >> 8) & 0xff) / 255f;
                    chw[2 * plane + i] = (argb & 0xff) / 255f;
                }
            }
        }
        return new RgbImage(w, h, chw);
    }
}
