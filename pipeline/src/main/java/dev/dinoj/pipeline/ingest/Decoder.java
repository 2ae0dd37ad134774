package dev.dinoj.pipeline.ingest;

import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.image.ImageFormat;
import dev.dinoj.pipeline.image.ImageReading;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Turns an object's bytes into an image, an IDX archive of images, or a reason for rejecting it — never an exception.
 *
 * <p>The format comes from the content's magic bytes, never from the key: PNG, JPEG (CMYK and YCCK too), GIF (first
 * frame), BMP, WebP (through {@link ImageReading}: ImageIO with TwelveMonkeys, EXIF orientation applied), IDX image
 * files ({@code 0x00000803}, the MNIST format), and gzip around any of them. The guards
 * run before the expensive work: the header's width × height against {@link IngestSettings#maxImagePixels()}, the
 * gzip output against {@link IngestSettings#maxExpandedBytes()}. Large images are subsampled while decoding to
 * {@link IngestSettings#decodeMaxSide()}.
 */
public final class Decoder {
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
     * @param format png | jpeg | gif | bmp | webp
     * @param width  width in the file
     * @param height height in the file
     * @param image  the pixels, upright (EXIF orientation), subsampled if the file was larger than the decode limit
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

    /** The format of {@code data} by its magic bytes, or null ({@link ImageFormat#sniff}). */
    static String sniff(byte[] d) {
        return ImageFormat.sniff(d);
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
        if (n > s.maxArchiveMembers()) {
            return new Rejected(
                    ObjectState.TOO_LARGE,
                    "IDX archive of " + n + " images exceeds max-archive-members " + s.maxArchiveMembers(),
                    "idx");
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
        ImageReading.Result r = ImageReading.read(
                data, fmt, new ImageReading.Limits(s.maxImagePixels(), s.minImageSide(), s.decodeMaxSide()));
        if (r instanceof ImageReading.Decoded d) {
            return new Image(fmt, d.width(), d.height(), RgbImage.of(d.image(), d.orientation()));
        }
        ImageReading.Refused refused = (ImageReading.Refused) r;
        ObjectState state = switch (refused.reason()) {
            case UNSUPPORTED -> ObjectState.NOT_AN_IMAGE;
            case CORRUPT -> ObjectState.CORRUPT;
            case TOO_LARGE -> ObjectState.TOO_LARGE;
            case TOO_SMALL -> ObjectState.FILTERED;
        };
        return new Rejected(state, refused.detail(), fmt);
    }

    private static int readInt(byte[] b, int at) {
        return (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | (b[at + 3] & 0xff);
    }
}
