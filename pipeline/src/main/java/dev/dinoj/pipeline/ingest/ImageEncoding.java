package dev.dinoj.pipeline.ingest;

import dev.dinoj.pipeline.data.RgbImage;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.ImageIO;

/** PNG encoding of pixels (for uploads of IDX datasets and for archive members written into shards). */
public final class ImageEncoding {
    private ImageEncoding() {}

    /** An 8-bit grayscale PNG of {@code width × height} bytes from {@code offset}, row-major. */
    public static byte[] pngGray(int width, int height, byte[] gray, int offset) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        byte[] dst = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        System.arraycopy(gray, offset, dst, 0, width * height);
        return png(img);
    }

    /** A PNG of an image: 8-bit grayscale when the three channels are equal, else 8-bit RGB. */
    public static byte[] png(RgbImage image) {
        int plane = image.planeSize();
        float[] chw = image.chw();
        for (int i = 0; i < plane; i++) {
            if (chw[i] != chw[plane + i] || chw[i] != chw[2 * plane + i]) {
                return pngRgb(image);
            }
        }
        byte[] gray = new byte[plane];
        for (int i = 0; i < plane; i++) {
            gray[i] = (byte) Math.round(chw[i] * 255f);
        }
        return pngGray(image.width(), image.height(), gray, 0);
    }

    /** A PNG of an RGB image (8 bits per channel). */
    public static byte[] pngRgb(RgbImage image) {
        int w = image.width();
        int h = image.height();
        int plane = w * h;
        float[] chw = image.chw();
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                int r = Math.round(chw[i] * 255f);
                int g = Math.round(chw[plane + i] * 255f);
                int b = Math.round(chw[2 * plane + i] * 255f);
                img.setRGB(x, y, r << 16 | g << 8 | b);
            }
        }
        return png(img);
    }

    /** Encodes with ImageIO's PNG writer. */
    public static byte[] png(BufferedImage img) {
        return encode(img, "png");
    }

    /** Encodes in {@code format} (png, jpeg, bmp, gif) with ImageIO's default writer settings. */
    public static byte[] encode(BufferedImage img, String format) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream(1024);
            if (!ImageIO.write(img, format, out)) {
                throw new IllegalArgumentException("no ImageIO writer for " + format);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException("encoding " + format + " failed", e);
        }
    }
}
