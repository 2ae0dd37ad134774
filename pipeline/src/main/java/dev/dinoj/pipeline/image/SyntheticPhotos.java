package dev.dinoj.pipeline.image;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Locale;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;

/**
 * Deterministic pictures in the encodings real photo collections hold, written without any download, for tests, the
 * data benchmark ({@code dinoj bench data}) and demos: textured scenes of a few visibly different classes, baseline and
 * progressive JPEG, Adobe CMYK JPEG, EXIF-rotated JPEG, lossless WebP, and PNGs of any size streamed without a raster
 * (a 9000 × 9000 decompression bomb is about 80 KB).
 */
public final class SyntheticPhotos {
    private SyntheticPhotos() {}

    /**
     * A textured scene of {@code w × h}: a background gradient, then shapes whose kind and colours depend on
     * {@code cls} (so classes differ visibly) and whose placement depends on {@code seed}.
     */
    public static BufferedImage scene(int w, int h, int cls, long seed) {
        Random r = new Random(seed * 1_000_003L + cls);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        float hue = (cls * 0.27f) % 1f;
        for (int y = 0; y < h; y++) {
            g.setColor(Color.getHSBColor(hue, 0.35f, 0.35f + 0.5f * y / h));
            g.drawLine(0, y, w - 1, y);
        }
        int shapes = 6 + r.nextInt(6);
        for (int i = 0; i < shapes; i++) {
            g.setColor(Color.getHSBColor((hue + 0.5f + 0.1f * r.nextFloat()) % 1f, 0.8f, 0.5f + 0.5f * r.nextFloat()));
            int s = Math.max(4, (int) (Math.min(w, h) * (0.1 + 0.25 * r.nextDouble())));
            int x = r.nextInt(Math.max(1, w - s));
            int y = r.nextInt(Math.max(1, h - s));
            switch (cls % 3) {
                case 0 -> g.fillOval(x, y, s, s);
                case 1 -> g.fillRect(x, y, s, s / 2 + 1);
                default -> g.fillPolygon(new int[] {x, x + s, x + s / 2}, new int[] {y + s, y + s, y}, 3);
            }
        }
        g.dispose();
        // sensor grain on every pixel (+-10 per channel), so JPEG codes texture as it does for photos (~1.5 bit/px)
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            img.getRGB(0, y, w, 1, row, 0, w);
            for (int x = 0; x < w; x++) {
                int n = r.nextInt(21) - 10;
                int p = row[x];
                row[x] =
                        clamp(((p >> 16) & 0xff) + n) << 16 | clamp(((p >> 8) & 0xff) + n) << 8 | clamp((p & 0xff) + n);
            }
            img.setRGB(0, y, w, 1, row, 0, w);
        }
        return img;
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }

    /**
     * Writes {@code n} JPEG scenes of {@code w × h} (quality 0.9) into {@code dir}, in {@code classes} class folders
     * ({@code class-K/photo-NNNNNN.jpg}, image i in class i mod classes): an image folder any dinoj command reads.
     */
    public static void writeJpegFolder(Path dir, int n, int w, int h, int classes, long seed) {
        try {
            for (int i = 0; i < n; i++) {
                int cls = i % classes;
                Path file = dir.resolve(String.format(Locale.ROOT, "class-%d/photo-%06d.jpg", cls, i));
                Files.createDirectories(file.getParent());
                Files.write(file, jpeg(scene(w, h, cls, seed + i), 0.9f, false));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("writing photos to " + dir + " failed", e);
        }
    }

    /** {@code img} as JPEG of {@code quality} (0..1), progressive or baseline, with the JDK's writer. */
    public static byte[] jpeg(BufferedImage img, float quality, boolean progressive) {
        ImageWriter writer = jdkJpegWriter();
        ImageWriteParam p = writer.getDefaultWriteParam();
        if (progressive) {
            p.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
        } else {
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(quality);
        }
        return write(writer, new IIOImage(img, null, null), p);
    }

    /**
     * An Adobe CMYK JPEG (APP14 transform 0, inverted samples, as Photoshop writes them) of {@code w × h} whose left half
     * is pure cyan and right half pure yellow; an RGB decoder shows (0, 255, 255) and (255, 255, 0). The JDK's own
     * reader refuses it.
     */
    public static byte[] cmykJpeg(int w, int h) {
        WritableRaster r = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, w, h, 4, null);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int[] cmyk = x < w / 2 ? new int[] {255, 0, 0, 0} : new int[] {0, 0, 255, 0};
                for (int c = 0; c < 4; c++) {
                    r.setSample(x, y, c, 255 - cmyk[c]);
                }
            }
        }
        ImageWriter writer = jdkJpegWriter();
        ImageWriteParam p = writer.getDefaultWriteParam();
        p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        p.setCompressionQuality(1f);
        byte[] plain = write(writer, new IIOImage(r, null, null), p);
        byte[] app14 = {(byte) 0xff, (byte) 0xee, 0, 14, 'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0};
        return insertAfterSoi(plain, app14);
    }

    /** {@code jpeg} with an EXIF APP1 segment (big-endian TIFF, IFD0 holding only the orientation tag) after SOI. */
    public static byte[] withExifOrientation(byte[] jpeg, int orientation) {
        byte[] tiff = {
            'M',
            'M',
            0,
            42,
            0,
            0,
            0,
            8, // header, IFD0 at 8
            0,
            1, // one entry
            0x01,
            0x12,
            0,
            3,
            0,
            0,
            0,
            1,
            0,
            (byte) orientation,
            0,
            0, // orientation, SHORT, 1 value
            0,
            0,
            0,
            0 // no next IFD
        };
        byte[] seg = new byte[4 + 6 + tiff.length];
        seg[0] = (byte) 0xff;
        seg[1] = (byte) 0xe1;
        int len = 2 + 6 + tiff.length;
        seg[2] = (byte) (len >> 8);
        seg[3] = (byte) len;
        System.arraycopy("Exif\0\0".getBytes(StandardCharsets.ISO_8859_1), 0, seg, 4, 6);
        System.arraycopy(tiff, 0, seg, 10, tiff.length);
        return insertAfterSoi(jpeg, seg);
    }

    /**
     * A lossless WebP (VP8L) of {@code w × h} (at most 16384 each) whose left half is red and right half blue, coded
     * with simple prefix codes: one bit per channel per pixel.
     */
    public static byte[] twoColourWebp(int w, int h) {
        Bits b = new Bits();
        b.put(w - 1, 14).put(h - 1, 14).put(0, 1).put(0, 3); // size, no alpha, version 0
        b.put(0, 1).put(0, 1).put(0, 1); // no transform, no colour cache, no meta prefix codes
        b.put(1, 1).put(0, 1).put(0, 1).put(0, 1); // green: one symbol, 0
        b.put(1, 1).put(1, 1).put(1, 1).put(0, 8).put(255, 8); // red: 0 or 255
        b.put(1, 1).put(1, 1).put(1, 1).put(0, 8).put(255, 8); // blue: 0 or 255
        b.put(1, 1).put(0, 1).put(1, 1).put(255, 8); // alpha: 255
        b.put(1, 1).put(0, 1).put(0, 1).put(0, 1); // distance: unused
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                boolean red = x < w / 2;
                b.put(red ? 1 : 0, 1).put(red ? 0 : 1, 1);
            }
        }
        byte[] body = b.bytes();
        int chunk = 1 + body.length;
        ByteArrayOutputStream f = new ByteArrayOutputStream();
        f.writeBytes("RIFF".getBytes(StandardCharsets.US_ASCII));
        le32(f, 4 + 8 + chunk + (chunk & 1));
        f.writeBytes("WEBPVP8L".getBytes(StandardCharsets.US_ASCII));
        le32(f, chunk);
        f.write(0x2f);
        f.writeBytes(body);
        if ((chunk & 1) == 1) {
            f.write(0);
        }
        return f.toByteArray();
    }

    /**
     * A valid 8-bit greyscale PNG of {@code w × h}, all black, streamed row by row without a raster: 9000 × 9000 is
     * about 80 KB, the shape of a decompression bomb.
     */
    public static byte[] blankPng(int w, int h) {
        return streamedPng(w, h, 0, new byte[1 + w]); // filter byte 0 (none), then zeros
    }

    /**
     * A valid 8-bit RGB PNG of {@code w × h} in one colour {@code rgb} (0xRRGGBB), streamed row by row without a
     * raster: 9000 × 9000 is a few hundred KB that decode to 243 MB of pixels, the 236 KB PNG of issue #14.
     */
    public static byte[] flatPng(int w, int h, int rgb) {
        byte[] row = new byte[1 + 3 * w]; // filter 1 (Sub): the first pixel, then zero differences
        row[0] = 1;
        row[1] = (byte) (rgb >> 16);
        row[2] = (byte) (rgb >> 8);
        row[3] = (byte) rgb;
        return streamedPng(w, h, 2, row);
    }

    /** A PNG of {@code h} copies of {@code row} (filter byte first), 8 bits per sample, of PNG colour type {@code type}. */
    private static byte[] streamedPng(int w, int h, int type, byte[] row) {
        ByteArrayOutputStream idat = new ByteArrayOutputStream();
        try (OutputStream z = new DeflaterOutputStream(idat, new Deflater(9))) {
            for (int y = 0; y < h; y++) {
                z.write(row);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a});
        ByteArrayOutputStream ihdr = new ByteArrayOutputStream();
        be32(ihdr, w);
        be32(ihdr, h);
        ihdr.writeBytes(new byte[] {8, (byte) type, 0, 0, 0}); // 8-bit, colour type, deflate, adaptive, no interlace
        chunk(png, "IHDR", ihdr.toByteArray());
        chunk(png, "IDAT", idat.toByteArray());
        chunk(png, "IEND", new byte[0]);
        return png.toByteArray();
    }

    /** {@code img} encoded by ImageIO as {@code format} (png, gif, bmp). */
    public static byte[] encode(BufferedImage img, String format) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            if (!ImageIO.write(img, format, out)) {
                throw new IllegalArgumentException("no ImageIO writer for " + format + " and " + img);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static ImageWriter jdkJpegWriter() {
        for (Iterator<ImageWriter> it = ImageIO.getImageWritersByFormatName("jpeg"); it.hasNext(); ) {
            ImageWriter w = it.next();
            if (w.getClass().getName().startsWith("com.sun.")) {
                return w;
            }
        }
        return ImageIO.getImageWritersByFormatName("jpeg").next();
    }

    private static byte[] write(ImageWriter writer, IIOImage image, ImageWriteParam p) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ImageOutputStream ios = ImageIO.createImageOutputStream(out)) {
            writer.setOutput(ios);
            writer.write(null, image, p);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }

    private static byte[] insertAfterSoi(byte[] jpeg, byte[] segment) {
        byte[] out = new byte[jpeg.length + segment.length];
        System.arraycopy(jpeg, 0, out, 0, 2);
        System.arraycopy(segment, 0, out, 2, segment.length);
        System.arraycopy(jpeg, 2, out, 2 + segment.length, jpeg.length - 2);
        return out;
    }

    private static void chunk(ByteArrayOutputStream png, String type, byte[] data) {
        be32(png, data.length);
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        png.writeBytes(t);
        png.writeBytes(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        be32(png, (int) crc.getValue());
    }

    private static void be32(ByteArrayOutputStream o, int v) {
        o.write(v >>> 24);
        o.write(v >>> 16);
        o.write(v >>> 8);
        o.write(v);
    }

    private static void le32(ByteArrayOutputStream o, int v) {
        o.write(v);
        o.write(v >>> 8);
        o.write(v >>> 16);
        o.write(v >>> 24);
    }

    /** An LSB-first bit writer (VP8L's order). */
    private static final class Bits {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private int acc;
        private int n;

        Bits put(int value, int bits) {
            for (int i = 0; i < bits; i++) {
                acc |= ((value >> i) & 1) << n;
                if (++n == 8) {
                    out.write(acc);
                    acc = 0;
                    n = 0;
                }
            }
            return this;
        }

        byte[] bytes() {
            if (n > 0) {
                out.write(acc);
                acc = 0;
                n = 0;
            }
            return out.toByteArray();
        }
    }
}
