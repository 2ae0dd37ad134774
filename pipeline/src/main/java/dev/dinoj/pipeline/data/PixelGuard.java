package dev.dinoj.pipeline.data;

import dev.dinoj.pipeline.image.ImageFormat;
import dev.dinoj.pipeline.image.ImageReading;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pixel guard of training- and evaluation-time decoding: a dataset image whose header says more than
 * {@link #maxPixels()} pixels is never decoded (a 236 KB PNG of 9000 × 9000 would need over a gigabyte of raster and
 * float planes); it is skipped, counted and logged once, and its place in the sample stream is taken by the next image
 * of the set within the guard. The choice depends only on the index and the files, so the same images are skipped and
 * replaced after {@code --resume} and on every rank: the sample stream stays exact. Images within the guard decode at
 * full resolution, upright (EXIF orientation), as 8-bit RGB ({@link RgbImage#of(java.awt.image.BufferedImage, int)}).
 */
public final class PixelGuard {
    /**
     * Default guard: 25 Mpx (a 6000 × 4000 camera frame fits). Decoding costs about 16 bytes per pixel (raster and
     * float planes), so one image within it stays under 400 MB per loader thread.
     */
    public static final long DEFAULT_MAX_PIXELS = 25_000_000L;

    /** The config key that sets the guard for training and evaluation datasets. */
    public static final String KEY = "dinoj.data.max-image-pixels";

    private static final Logger log = LoggerFactory.getLogger(PixelGuard.class);

    private final long maxPixels;
    private final Set<Integer> skipped = ConcurrentHashMap.newKeySet();

    public PixelGuard(long maxPixels) {
        if (maxPixels < 1) {
            throw new IllegalArgumentException(KEY + " must be >= 1: " + maxPixels);
        }
        this.maxPixels = maxPixels;
    }

    /** The default guard ({@link #DEFAULT_MAX_PIXELS}). */
    public static PixelGuard standard() {
        return new PixelGuard(DEFAULT_MAX_PIXELS);
    }

    /** Pixels (width × height from the header) above which an image is skipped. */
    public long maxPixels() {
        return maxPixels;
    }

    /** Distinct images skipped so far. */
    public int skipped() {
        return skipped.size();
    }

    /**
     * Decodes image {@code index} from {@code data}, or returns null when it is over the guard (counted; logged the
     * first time).
     *
     * @param name the file or key, for messages
     * @throws DatasetException when the bytes are not a picture or cannot be decoded
     */
    public RgbImage decodeOrNull(int index, byte[] data, String name) {
        String format = ImageFormat.sniff(data);
        if (!ImageFormat.isPicture(format)) {
            throw new DatasetException(
                    name + ": cannot be decoded (" + (format == null ? "unrecognised content" : format)
                            + ", not a picture); replace or delete the file");
        }
        ImageReading.Result r = ImageReading.read(data, format, ImageReading.Limits.fullResolution(maxPixels));
        if (r instanceof ImageReading.Decoded d) {
            return RgbImage.of(d.image(), d.orientation());
        }
        ImageReading.Refused refused = (ImageReading.Refused) r;
        if (refused.reason() == ImageReading.Reason.TOO_LARGE) {
            if (skipped.add(index)) {
                log.warn(
                        "{}: skipped ({}; {} = {}); the next image of the set takes its place",
                        name,
                        refused.detail(),
                        KEY,
                        maxPixels);
            }
            return null;
        }
        throw new DatasetException(name + ": cannot be decoded (" + refused.detail() + "); replace or delete the file");
    }

    /**
     * The first image at or after {@code index} (wrapping around) that {@code decodeOrNull} decodes within the guard.
     *
     * @param where the dataset, for the message when every image is over the guard
     */
    public RgbImage firstWithin(int index, int size, IntFunction<RgbImage> decodeOrNull, String where) {
        for (int k = 0, i = index; k < size; k++, i = (i + 1) % size) {
            RgbImage img = decodeOrNull.apply(i);
            if (img != null) {
                return img;
            }
        }
        throw new DatasetException(where + ": every image is over the pixel guard (" + KEY + " = " + maxPixels
                + "); raise it or curate with curate.store.max-side");
    }
}
