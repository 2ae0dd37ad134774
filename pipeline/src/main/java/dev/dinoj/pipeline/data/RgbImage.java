package dev.dinoj.pipeline.data;

import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;

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

    /** {@code v / 255f} for every byte value, the same floats the division gives. */
    private static final float[] UNIT = new float[256];

    static {
        for (int v = 0; v < 256; v++) {
            UNIT[v] = v / 255f;
        }
    }

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

    /** A decoded AWT image as stored (see {@link #of(BufferedImage, int)}). */
    public static RgbImage of(BufferedImage img) {
        return of(img, 1);
    }

    /**
     * A decoded AWT image as 8-bit RGB, then as floats {@code v / 255} in [0, 1], the way PIL's {@code convert("RGB")}
     * and torchvision's {@code ToTensor} see it: alpha is dropped (not composited), palettes are looked up, grey expands
     * to three equal channels (deeper than 8 bits: the high byte; 1, 2 and 4 bits: scaled to 0..255), CMYK arrives
     * already converted by the decoder. The pixels are placed by the EXIF {@code orientation} (1..8, 1 = as stored), so
     * a rotated photo comes out upright in the same pass.
     */
    public static RgbImage of(BufferedImage img, int orientation) {
        RgbImage fast = ofInterleavedBytes(img, orientation);
        if (fast != null) {
            return fast;
        }
        int w = img.getWidth();
        int h = img.getHeight();
        boolean swap = orientation >= 5 && orientation <= 8;
        int outW = swap ? h : w;
        int outH = swap ? w : h;
        int plane = w * h;
        float[] chw = new float[3 * plane];
        ColorModel cm = img.getColorModel();
        Raster raster = img.getRaster();
        int[] row = new int[w * Math.max(3, raster.getNumBands())];
        int[] rgb = new int[w];
        boolean gray = cm instanceof ComponentColorModel && cm.getNumColorComponents() == 1;
        boolean srgb8 = cm instanceof ComponentColorModel
                && cm.getColorSpace().isCS_sRGB()
                && cm.getNumColorComponents() == 3
                && raster.getTransferType() == DataBuffer.TYPE_BYTE;
        int bands = raster.getNumBands();
        int bits = gray ? cm.getComponentSize(0) : 8;
        int grayMax = (1 << Math.min(bits, 8)) - 1;
        for (int y = 0; y < h; y++) {
            if (gray) {
                raster.getSamples(0, y, w, 1, 0, row);
            } else if (srgb8) {
                raster.getPixels(0, y, w, 1, row);
            } else {
                img.getRGB(0, y, w, 1, rgb, 0, w);
            }
            for (int x = 0; x < w; x++) {
                int r;
                int g;
                int b;
                if (gray) {
                    int v = bits > 8 ? row[x] >>> (bits - 8) : bits < 8 ? row[x] * 255 / grayMax : row[x];
                    r = v;
                    g = v;
                    b = v;
                } else if (srgb8) {
                    r = row[x * bands];
                    g = row[x * bands + 1];
                    b = row[x * bands + 2];
                } else {
                    int argb = rgb[x];
                    r = (argb >> 16) & 0xff;
                    g = (argb >> 8) & 0xff;
                    b = argb & 0xff;
                }
                int i = target(orientation, x, y, w, h, outW);
                chw[i] = r / 255f;
                chw[plane + i] = g / 255f;
                chw[2 * plane + i] = b / 255f;
            }
        }
        return new RgbImage(outW, outH, chw);
    }

    /**
     * The common case of {@link #of(BufferedImage, int)}, what JPEG and most PNG decoders give (3 or 4 interleaved 8-bit
     * sRGB samples in one byte array, e.g. {@code TYPE_3BYTE_BGR}), read straight from the array: the same floats as the
     * general path, several times faster. Null for any other layout.
     */
    private static RgbImage ofInterleavedBytes(BufferedImage img, int orientation) {
        ColorModel cm = img.getColorModel();
        Raster raster = img.getRaster();
        if (!(cm instanceof ComponentColorModel)
                || !cm.getColorSpace().isCS_sRGB()
                || cm.getNumColorComponents() != 3
                || !(raster.getSampleModel() instanceof ComponentSampleModel sm)
                || !(raster.getDataBuffer() instanceof DataBufferByte db)
                || db.getNumBanks() != 1
                || sm.getNumBands() < 3
                || raster.getMinX() != 0
                || raster.getMinY() != 0) {
            return null;
        }
        for (int b = 0; b < 3; b++) {
            if (cm.getComponentSize(b) != 8 || sm.getBankIndices()[b] != 0) {
                return null;
            }
        }
        int w = img.getWidth();
        int h = img.getHeight();
        boolean swap = orientation >= 5 && orientation <= 8;
        int outW = swap ? h : w;
        int outH = swap ? w : h;
        int plane = w * h;
        float[] chw = new float[3 * plane];
        byte[] data = db.getData();
        int pixelStride = sm.getPixelStride();
        int scanline = sm.getScanlineStride();
        int[] offsets = sm.getBandOffsets();
        int origin = db.getOffset()
                - raster.getSampleModelTranslateY() * scanline
                - raster.getSampleModelTranslateX() * pixelStride;
        int or = offsets[0];
        int og = offsets[1];
        int ob = offsets[2];
        for (int y = 0; y < h; y++) {
            int p = origin + y * scanline;
            if (orientation == 1 || orientation < 1 || orientation > 8) {
                int i = y * w;
                for (int x = 0; x < w; x++, p += pixelStride, i++) {
                    chw[i] = UNIT[data[p + or] & 0xff];
                    chw[plane + i] = UNIT[data[p + og] & 0xff];
                    chw[2 * plane + i] = UNIT[data[p + ob] & 0xff];
                }
            } else {
                for (int x = 0; x < w; x++, p += pixelStride) {
                    int i = target(orientation, x, y, w, h, outW);
                    chw[i] = UNIT[data[p + or] & 0xff];
                    chw[plane + i] = UNIT[data[p + og] & 0xff];
                    chw[2 * plane + i] = UNIT[data[p + ob] & 0xff];
                }
            }
        }
        return new RgbImage(outW, outH, chw);
    }

    /** Where stored pixel (x, y) of a {@code w × h} image lands in the upright image of width {@code outW}. */
    private static int target(int orientation, int x, int y, int w, int h, int outW) {
        return switch (orientation) {
            case 2 -> y * outW + (w - 1 - x); // mirrored left-right
            case 3 -> (h - 1 - y) * outW + (w - 1 - x); // rotated 180°
            case 4 -> (h - 1 - y) * outW + x; // mirrored top-bottom
            case 5 -> x * outW + y; // transposed
            case 6 -> x * outW + (h - 1 - y); // rotate 90° clockwise to display
            case 7 -> (w - 1 - x) * outW + (h - 1 - y); // transversed
            case 8 -> (w - 1 - x) * outW + y; // rotate 90° counter-clockwise to display
            default -> y * outW + x;
        };
    }

    /** This image mirrored left-right (a new image). */
    public RgbImage mirrored() {
        int w = width();
        int h = height();
        float[] src = chw();
        float[] out = new float[src.length];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                int row = (c * h + y) * w;
                for (int x = 0; x < w; x++) {
                    out[row + x] = src[row + w - 1 - x];
                }
            }
        }
        return new RgbImage(w, h, out);
    }
}
