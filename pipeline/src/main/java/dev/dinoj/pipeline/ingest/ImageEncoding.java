package dev.dinoj.pipeline.ingest;

import dev.dinoj.pipeline.data.RgbImage;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * PNG and JPEG encoding of pixels (uploads of IDX datasets, archive members written into shards, large images stored
 * re-encoded by {@code curate}).
 */
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
        return png(rgb8(image));
    }

    /** A baseline JPEG of an RGB image at {@code quality} (1..100), 4:2:0 as ImageIO's writer and PIL write it. */
    public static byte[] jpeg(RgbImage image, int quality) {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ImageWriteParam p = writer.getDefaultWriteParam();
        p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        p.setCompressionQuality(quality / 100f);
        ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
        try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
            writer.setOutput(ios);
            writer.write(null, new IIOImage(rgb8(image), null, null), p);
        } catch (IOException e) {
            throw new UncheckedIOException("encoding jpeg failed", e);
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }

    /** The image as an 8-bit RGB raster ({@code round(v·255)}). */
    private static BufferedImage rgb8(RgbImage image) {
        int w = image.width();
        int h = image.height();
        int plane = w * h;
        float[] chw = image.chw();
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        byte[] bgr = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        for (int i = 0; i < plane; i++) {
            bgr[3 * i] = (byte) Math.round(chw[2 * plane + i] * 255f);
            bgr[3 * i + 1] = (byte) Math.round(chw[plane + i] * 255f);
            bgr[3 * i + 2] = (byte) Math.round(chw[i] * 255f);
        }
        return img;
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
