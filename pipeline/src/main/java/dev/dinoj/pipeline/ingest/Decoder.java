package dev.dinoj.pipeline.ingest;

import dev.dinoj.pipeline.data.RgbImage;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Turns an object's bytes into an image, an IDX archive of images, or a reason for rejecting it — never an exception.
 *
 * <p>The format comes from the content's magic bytes, never from the key: PNG, JPEG, GIF, BMP (through
 * {@link ImageIO}), IDX image files ({@code 0x00000803}, the MNIST format), and gzip around any of them. The guards
 * run before the expensive work: the header's width × height against {@link IngestSettings#maxImagePixels()}, the
 * gzip output against {@link IngestSettings#maxExpandedBytes()}. Large images are subsampled while decoding to
 * {@link IngestSettings#decodeMaxSide()}.
 */
public final class Decoder {
    static {
        ImageIO.setUseCache(false); // decode from memory, no temporary files
    }

    private Decoder() {}

    /** What decoding produced. */
    public sealed interface Outcome permits Rejected, Image, Archive {}

    /**
     * Not ingestible.
     *
     * @param state  corrupt, not_an_image, too_large or filtered
     * @param detail why
     * @param format the recognised format, or null
     */
    public record Rejected(ObjectState state, String detail, String format) implements Outcome {}

    /**
     * A decoded image.
     *
     * @param format png | jpeg | gif | bmp
     * @param width  width in the file
     * @param height height in the file
     * @param image  the pixels, subsampled if the file was larger than the decode limit
     */
    public record Image(String format, int width, int height, RgbImage image) implements Outcome {}

    /**
     * An IDX image file: {@code count} grayscale images of {@code rows × cols}, pixels from {@code offset}.
     *
     * @param count  images
     * @param rows   height
     * @param cols   width
     * @param data   the (decompressed) file
     * @param offset where the first image's pixels start
     */
    public record Archive(int count, int rows, int cols, byte[] data, int offset) implements Outcome {
        /** Image {@code i} with three equal channels. */
        public RgbImage member(int i) {
            return RgbImage.fromGray8(cols, rows, data, offset + i * rows * cols);
        }

        /** Hex SHA-256 of image {@code i}: its shape and its pixels. */
        public String memberSha(int i) {
            MessageDigest md = sha();
            md.update(("idx:" + rows + "x" + cols + ":").getBytes(StandardCharsets.US_ASCII));
            md.update(data, offset + i * rows * cols, rows * cols);
            return HexFormat.of().formatHex(md.digest());
        }

        /** Pixel bytes of one image. */
        public int memberBytes() {
            return rows * cols;
        }
    }

    /** Hex SHA-256 of {@code data}. */
    public static String sha256(byte[] data) {
        return HexFormat.of().formatHex(sha().digest(data));
    }

    private static MessageDigest sha() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /** Decodes {@code data} under the guards of {@code s}. */
    public static Outcome decode(byte[] data, IngestSettings s) {
        return decode(data, s, true);
    }

    private static Outcome decode(byte[] data, IngestSettings s, boolean allowGzip) {
        if (data.length == 0) {
            return new Rejected(ObjectState.CORRUPT, "empty object (0 bytes)", null);
        }
        String fmt = sniff(data);
        if (fmt == null) {
            return new Rejected(ObjectState.NOT_AN_IMAGE, describeUnknown(data), null);
        }
        switch (fmt) {
            case "gzip":
                if (!allowGzip) {
                    return new Rejected(ObjectState.NOT_AN_IMAGE, "gzip inside gzip", "gzip");
                }
                return gunzipThenDecode(data, s);
            case "idx":
                return idx(data, s);
            case "idx-labels":
                return new Rejected(ObjectState.NOT_AN_IMAGE, "IDX label file (magic 0x00000801), not images", "idx");
            default:
                return image(data, fmt, s);
        }
    }

    /** The format of {@code data} by its magic bytes, or null. */
    static String sniff(byte[] d) {
        if (d.length >= 8
                && (d[0] & 0xff) == 0x89
                && d[1] == 'P'
                && d[2] == 'N'
                && d[3] == 'G'
                && d[4] == 0x0d
                && d[5] == 0x0a
                && d[6] == 0x1a
                && d[7] == 0x0a) {
            return "png";
        }
        if (d.length >= 3 && (d[0] & 0xff) == 0xff && (d[1] & 0xff) == 0xd8 && (d[2] & 0xff) == 0xff) {
            return "jpeg";
        }
        if (d.length >= 6
                && d[0] == 'G'
                && d[1] == 'I'
                && d[2] == 'F'
                && d[3] == '8'
                && (d[4] == '7' || d[4] == '9')
                && d[5] == 'a') {
            return "gif";
        }
        if (d.length >= 18 && d[0] == 'B' && d[1] == 'M') {
            int dib = (d[14] & 0xff) | (d[15] & 0xff) << 8 | (d[16] & 0xff) << 16 | (d[17] & 0xff) << 24;
            if (dib == 12 || dib == 40 || dib == 52 || dib == 56 || dib == 64 || dib == 108 || dib == 124) {
                return "bmp";
            }
        }
        if (d.length >= 2 && (d[0] & 0xff) == 0x1f && (d[1] & 0xff) == 0x8b) {
            return "gzip";
        }
        if (d.length >= 4 && d[0] == 0 && d[1] == 0 && d[2] == 0x08 && d[3] == 0x03) {
            return "idx";
        }
        if (d.length >= 4 && d[0] == 0 && d[1] == 0 && d[2] == 0x08 && d[3] == 0x01) {
            return "idx-labels";
        }
        return null;
    }

    private static String describeUnknown(byte[] d) {
        int n = Math.min(d.length, 512);
        int printable = 0;
        for (int i = 0; i < n; i++) {
            int b = d[i] & 0xff;
            if (b == '\n' || b == '\r' || b == '\t' || (b >= 0x20 && b < 0x7f) || b >= 0x80) {
                printable++;
            }
        }
        if (printable >= n * 0.95) {
            return "text content, not an image";
        }
        StringBuilder sb = new StringBuilder("unrecognised content (starts with");
        for (int i = 0; i < Math.min(4, d.length); i++) {
            sb.append(String.format(" %02x", d[i] & 0xff));
        }
        return sb.append(")").toString();
    }

    private static Outcome gunzipThenDecode(byte[] data, IngestSettings s) {
        long limit = s.maxExpandedBytes();
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(limit, Math.max(1024, data.length * 4L)));
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(data), 1 << 16)) {
            byte[] buf = new byte[1 << 16];
            long total = 0;
            int r;
            while ((r = in.read(buf)) > 0) {
                total += r;
                if (total > limit) {
                    return new Rejected(
                            ObjectState.TOO_LARGE,
                            "gzip stream expands beyond " + limit + " bytes (decompression-bomb guard)",
                            "gzip");
                }
                out.write(buf, 0, r);
            }
        } catch (EOFException e) {
            return new Rejected(ObjectState.CORRUPT, "truncated gzip stream", "gzip");
        } catch (ZipException e) {
            return new Rejected(ObjectState.CORRUPT, "corrupt gzip stream (" + e.getMessage() + ")", "gzip");
        } catch (IOException e) {
            return new Rejected(ObjectState.CORRUPT, "unreadable gzip stream (" + e.getMessage() + ")", "gzip");
        }
        return decode(out.toByteArray(), s, false);
    }

    private static Outcome idx(byte[] d, IngestSettings s) {
        if (d.length < 16) {
            return new Rejected(ObjectState.CORRUPT, "truncated IDX header (" + d.length + " bytes)", "idx");
        }
        int n = readInt(d, 4);
        int rows = readInt(d, 8);
        int cols = readInt(d, 12);
        if (n < 0 || rows <= 0 || cols <= 0) {
            return new Rejected(
                    ObjectState.CORRUPT, "corrupt IDX header: " + n + " images of " + rows + "x" + cols, "idx");
        }
        if ((long) rows * cols > s.maxImagePixels()) {
            return new Rejected(
                    ObjectState.TOO_LARGE,
                    "IDX images of " + cols + "x" + rows + " exceed " + s.maxImagePixels() + " pixels",
                    "idx");
        }
        long expected = (long) n * rows * cols;
        long actual = d.length - 16L;
        if (actual != expected) {
            return new Rejected(
                    ObjectState.CORRUPT,
                    (actual < expected ? "truncated" : "corrupt") + " IDX file: header says " + n + " images of " + cols
                            + "x" + rows + " (" + expected + " bytes) but " + actual + " bytes follow",
                    "idx");
        }
        if (Math.min(rows, cols) < s.minImageSide()) {
            return new Rejected(
                    ObjectState.FILTERED,
                    "IDX images of " + cols + "x" + rows + " are smaller than " + s.minImageSide() + " px",
                    "idx");
        }
        return new Archive(n, rows, cols, d, 16);
    }

    private static Outcome image(byte[] data, String fmt, IngestSettings s) {
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(fmt);
        if (!readers.hasNext()) {
            return new Rejected(ObjectState.NOT_AN_IMAGE, "no decoder for " + fmt + " in this JVM", fmt);
        }
        ImageReader reader = readers.next();
        try (ImageInputStream iis = ImageIO.createImageInputStream(new ByteArrayInputStream(data))) {
            reader.setInput(iis, true, true);
            int w;
            int h;
            try {
                w = reader.getWidth(0);
                h = reader.getHeight(0);
            } catch (IOException | RuntimeException e) {
                return new Rejected(ObjectState.CORRUPT, "unreadable " + fmt + " header (" + message(e) + ")", fmt);
            }
            if (w <= 0 || h <= 0) {
                return new Rejected(ObjectState.CORRUPT, fmt + " header says " + w + "x" + h, fmt);
            }
            if ((long) w * h > s.maxImagePixels()) {
                return new Rejected(
                        ObjectState.TOO_LARGE,
                        w + "x" + h + " = " + (long) w * h + " pixels exceed " + s.maxImagePixels()
                                + " (decompression-bomb guard)",
                        fmt);
            }
            if (Math.min(w, h) < s.minImageSide()) {
                return new Rejected(
                        ObjectState.FILTERED, w + "x" + h + " is smaller than " + s.minImageSide() + " px", fmt);
            }
            ImageReadParam param = reader.getDefaultReadParam();
            int step = (Math.max(w, h) + s.decodeMaxSide() - 1) / s.decodeMaxSide();
            if (step > 1) {
                param.setSourceSubsampling(step, step, 0, 0);
            }
            BufferedImage img;
            try {
                img = reader.read(0, param);
            } catch (IOException | RuntimeException e) {
                return new Rejected(ObjectState.CORRUPT, "cannot decode " + fmt + " (" + message(e) + ")", fmt);
            }
            if (img == null) {
                return new Rejected(ObjectState.CORRUPT, "cannot decode " + fmt, fmt);
            }
            return new Image(fmt, w, h, RgbImage.of(img));
        } catch (IOException | RuntimeException e) {
            return new Rejected(ObjectState.CORRUPT, "cannot decode " + fmt + " (" + message(e) + ")", fmt);
        } finally {
            reader.dispose();
        }
    }

    private static String message(Throwable e) {
        Throwable t = e;
        String m = t.getMessage();
        while (t.getCause() != null && (m == null || m.isEmpty())) {
            t = t.getCause();
            m = t.getMessage();
        }
        return m == null || m.isEmpty() ? e.getClass().getSimpleName() : m;
    }

    private static int readInt(byte[] b, int at) {
        return (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | (b[at + 3] & 0xff);
    }
}
