package dev.dinoj.pipeline.image;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Decodes one picture (the first frame of a GIF or an animated WebP) from memory under guards that run before any
 * pixel is decoded: width × height from the header against a pixel limit (decompression bombs), the shorter side
 * against a minimum. Never throws: every failure is a {@link Refused} with its reason.
 */
public final class ImageReading {
    static {
        ImageIO.setUseCache(false); // decode from memory, no temporary files
    }

    private ImageReading() {}

    /**
     * What a read may do.
     *
     * @param maxPixels width × height above this is {@link Reason#TOO_LARGE}
     * @param minSide   a shorter side below this is {@link Reason#TOO_SMALL}
     * @param maxSide   larger pictures are subsampled while decoding so that their longer side is at most this;
     *                  {@link Integer#MAX_VALUE} decodes at full resolution
     */
    public record Limits(long maxPixels, int minSide, int maxSide) {
        /** Full resolution, only the pixel guard. */
        public static Limits fullResolution(long maxPixels) {
            return new Limits(maxPixels, 1, Integer.MAX_VALUE);
        }
    }

    /** Why a picture was not decoded. */
    public enum Reason {
        /** No decoder for the format in this JVM. */
        UNSUPPORTED,
        /** Header or pixel data unreadable. */
        CORRUPT,
        /** Over {@link Limits#maxPixels()}. */
        TOO_LARGE,
        /** Under {@link Limits#minSide()}. */
        TOO_SMALL
    }

    /** The result of a read. */
    public sealed interface Result permits Decoded, Refused {}

    /**
     * A decoded picture.
     *
     * @param image       the pixels as stored (subsampled if over {@link Limits#maxSide()}), not yet oriented
     * @param width       width in the file's header
     * @param height      height in the file's header
     * @param orientation the EXIF orientation to apply ({@link ExifOrientation}), 1 = upright
     */
    public record Decoded(BufferedImage image, int width, int height, int orientation) implements Result {}

    /**
     * Not decoded.
     *
     * @param reason why
     * @param detail one line for the object's state or a log
     */
    public record Refused(Reason reason, String detail) implements Result {}

    /** Reads {@code data}, a picture of {@code format} ({@link ImageFormat#sniff}), under {@code limits}. */
    public static Result read(byte[] data, String format, Limits limits) {
        ImageReader reader = reader(format);
        if (reader == null) {
            return new Refused(Reason.UNSUPPORTED, "no decoder for " + format + " in this JVM");
        }
        try (ImageInputStream iis = ImageIO.createImageInputStream(new ByteArrayInputStream(data))) {
            reader.setInput(iis, true, true);
            Refused refused = checkSize(reader, format, limits);
            if (refused != null) {
                return refused;
            }
            int w = reader.getWidth(0);
            int h = reader.getHeight(0);
            ImageReadParam param = reader.getDefaultReadParam();
            int step = (int) ((Math.max(w, h) + (long) limits.maxSide() - 1) / limits.maxSide());
            if (step > 1) {
                param.setSourceSubsampling(step, step, 0, 0);
            }
            BufferedImage img;
            try {
                img = reader.read(0, param);
            } catch (IOException | RuntimeException e) {
                return new Refused(Reason.CORRUPT, "cannot decode " + format + " (" + message(e) + ")");
            }
            if (img == null) {
                return new Refused(Reason.CORRUPT, "cannot decode " + format);
            }
            return new Decoded(img, w, h, ExifOrientation.of(data, format));
        } catch (IOException | RuntimeException e) {
            return new Refused(Reason.CORRUPT, "cannot decode " + format + " (" + message(e) + ")");
        } finally {
            reader.dispose();
        }
    }

    /**
     * Checks the header of {@code data} against {@code limits} without decoding a pixel: null when a {@link #read}
     * would decode it, else why not ({@link Reason#CORRUPT} for an unreadable header).
     */
    public static Refused checkHeader(byte[] data, String format, Limits limits) {
        ImageReader reader = reader(format);
        if (reader == null) {
            return new Refused(Reason.UNSUPPORTED, "no decoder for " + format + " in this JVM");
        }
        try (ImageInputStream iis = ImageIO.createImageInputStream(new ByteArrayInputStream(data))) {
            reader.setInput(iis, true, true);
            return checkSize(reader, format, limits);
        } catch (IOException | RuntimeException e) {
            return new Refused(Reason.CORRUPT, "unreadable " + format + " header (" + message(e) + ")");
        } finally {
            reader.dispose();
        }
    }

    /**
     * {@code {width, height}} from the header of {@code data}, a picture of {@code format}.
     *
     * @throws IllegalArgumentException when there is no decoder or the header cannot be read
     */
    public static int[] size(byte[] data, String format) {
        ImageReader reader = reader(format);
        if (reader == null) {
            throw new IllegalArgumentException("no decoder for " + format + " in this JVM");
        }
        try (ImageInputStream iis = ImageIO.createImageInputStream(new ByteArrayInputStream(data))) {
            reader.setInput(iis, true, true);
            return new int[] {reader.getWidth(0), reader.getHeight(0)};
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("unreadable " + format + " header (" + message(e) + ")", e);
        } finally {
            reader.dispose();
        }
    }

    /** The header's size against the limits: null when within. */
    private static Refused checkSize(ImageReader reader, String format, Limits limits) {
        int w;
        int h;
        try {
            w = reader.getWidth(0);
            h = reader.getHeight(0);
        } catch (IOException | RuntimeException e) {
            return new Refused(Reason.CORRUPT, "unreadable " + format + " header (" + message(e) + ")");
        }
        if (w <= 0 || h <= 0) {
            return new Refused(Reason.CORRUPT, format + " header says " + w + "x" + h);
        }
        if ((long) w * h > limits.maxPixels()) {
            return new Refused(
                    Reason.TOO_LARGE,
                    w + "x" + h + " = " + (long) w * h + " pixels exceed " + limits.maxPixels()
                            + " (decompression-bomb guard)");
        }
        if (Math.min(w, h) < limits.minSide()) {
            return new Refused(Reason.TOO_SMALL, w + "x" + h + " is smaller than " + limits.minSide() + " px");
        }
        return null;
    }

    /** The first registered reader of {@code format} (TwelveMonkeys' JPEG reader orders itself before the JDK's). */
    private static ImageReader reader(String format) {
        Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format);
        return readers.hasNext() ? readers.next() : null;
    }

    /** The first non-empty message along the cause chain, or the exception's simple name. */
    public static String message(Throwable e) {
        Throwable t = e;
        String m = t.getMessage();
        while (t.getCause() != null && (m == null || m.isEmpty())) {
            t = t.getCause();
            m = t.getMessage();
        }
        return m == null || m.isEmpty() ? e.getClass().getSimpleName() : m;
    }
}
