package dev.dinoj.pipeline.data;

import dev.dinoj.pipeline.image.ImageFormat;
import dev.dinoj.pipeline.image.ImageReading;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The pixel guard of training- and evaluation-time decoding: a dataset image whose header says more than
 * {@link #maxPixels()} pixels is never decoded (a 236 KB PNG of 9000 × 9000 would need over a gigabyte of raster and
 * float planes); it is skipped, counted and logged once, and its place in the sample stream is taken by the next image
 * of the set within the guard. The choice depends only on the index and the files, so the same images are skipped and
 * replaced after {@code --resume}, on every rank, and whether a worker reads the set itself or receives the bytes from
 * a data shard: the sample stream stays exact. Images within the guard decode at full resolution, upright (EXIF
 * orientation), as 8-bit RGB ({@link RgbImage#of(java.awt.image.BufferedImage, int)}).
 *
 * <p>A guard belongs to one dataset: it remembers which of its images are within (each header is checked once) and
 * which image took the place of each skipped one ({@link #used}), so that what belongs to an image, its label in
 * evaluation, can follow the image actually decoded.
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
    private final Map<Integer, Integer> replacedBy = new ConcurrentHashMap<>(); // skipped index → index used
    private volatile AtomicLongArray within; // bit i: image i's header was checked and is within the guard

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

    /** The dataset indices of the images skipped so far, ascending. */
    public int[] skippedIndices() {
        return skipped.stream().mapToInt(Integer::intValue).sorted().toArray();
    }

    /**
     * The stored bytes of the first image at or after {@code index} (wrapping around) whose header is within the guard;
     * those over it are counted and logged once each and not read again. Each image's header is checked once.
     *
     * @param bytes the stored bytes of an image
     * @param names the file or key of an image, for messages
     * @param where the dataset, for the message when every image is over the guard
     * @throws DatasetException when an image is not a picture or its header cannot be read
     */
    public byte[] firstWithin(int index, int size, IntFunction<byte[]> bytes, IntFunction<String> names, String where) {
        AtomicLongArray ok = within(size);
        ImageReading.Limits limits = ImageReading.Limits.fullResolution(maxPixels);
        for (int k = 0, i = index; k < size; k++, i = (i + 1) % size) {
            if (skipped.contains(i)) {
                continue;
            }
            byte[] data = bytes.apply(i);
            if (!isSet(ok, i)) {
                String format = format(data, names, i);
                ImageReading.Refused refused = ImageReading.checkHeader(data, format, limits);
                if (refused != null) {
                    if (refused.reason() != ImageReading.Reason.TOO_LARGE) {
                        throw unreadable(names.apply(i), refused.detail());
                    }
                    if (skipped.add(i)) {
                        log.warn(
                                "{}: skipped ({}; {} = {}); the next image of the set takes its place",
                                names.apply(i),
                                refused.detail(),
                                KEY,
                                maxPixels);
                    }
                    continue;
                }
                set(ok, i);
            }
            if (i != index) {
                replacedBy.put(index, i);
            }
            return data;
        }
        throw new DatasetException(where + ": every image is over the pixel guard (" + KEY + " = " + maxPixels
                + "); raise it or curate with curate.store.max-side");
    }

    /**
     * Whether {@link #firstWithin} has already resolved position {@code index}: {@link #used} then answers without
     * reading an image.
     */
    public boolean resolved(int index) {
        AtomicLongArray ok = within;
        return replacedBy.containsKey(index)
                || (ok != null && index >= 0 && index < ok.length() * 64L && isSet(ok, index));
    }

    /**
     * The position whose image {@link #firstWithin} returned for {@code index}: {@code index} itself, or the image that
     * took the place of a skipped one. Meaningful once {@link #resolved}.
     */
    public int used(int index) {
        return replacedBy.getOrDefault(index, index);
    }

    /** The bits of the images known within, sized for the dataset's {@code size} images on the first call. */
    private AtomicLongArray within(int size) {
        AtomicLongArray ok = within;
        if (ok == null) {
            synchronized (this) {
                ok = within;
                if (ok == null) {
                    ok = new AtomicLongArray((size + 63) / 64);
                    within = ok;
                }
            }
        }
        if ((size + 63) / 64 != ok.length()) {
            throw new IllegalStateException("a PixelGuard belongs to one dataset: it saw " + ok.length() * 64L
                    + " images at most before, now " + size);
        }
        return ok;
    }

    private static boolean isSet(AtomicLongArray bits, int i) {
        return (bits.get(i >>> 6) & (1L << (i & 63))) != 0;
    }

    private static void set(AtomicLongArray bits, int i) {
        long bit = 1L << (i & 63);
        long w;
        do {
            w = bits.get(i >>> 6);
        } while ((w & bit) == 0 && !bits.compareAndSet(i >>> 6, w, w | bit));
    }

    /**
     * Decodes stored bytes ({@link #firstWithin}'s, or a data shard's) at full resolution, upright, as 8-bit RGB; the
     * guard is checked again from the header.
     *
     * @param name the file or key, for messages
     * @throws DatasetException when the bytes are not a picture within the guard
     */
    public RgbImage decode(byte[] data, String name) {
        String format = format(data, i -> name, 0);
        ImageReading.Result r = ImageReading.read(data, format, ImageReading.Limits.fullResolution(maxPixels));
        if (r instanceof ImageReading.Decoded d) {
            return RgbImage.of(d.image(), d.orientation());
        }
        throw unreadable(name, ((ImageReading.Refused) r).detail());
    }

    private static String format(byte[] data, IntFunction<String> names, int i) {
        String format = ImageFormat.sniff(data);
        if (!ImageFormat.isPicture(format)) {
            throw unreadable(names.apply(i), (format == null ? "unrecognised content" : format) + ", not a picture");
        }
        return format;
    }

    private static DatasetException unreadable(String name, String detail) {
        return new DatasetException(name + ": cannot be decoded (" + detail + "); replace or delete the file");
    }
}
