package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.augment.Geometric;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.image.ExifOrientation;
import dev.dinoj.pipeline.image.ImageFormat;
import dev.dinoj.pipeline.image.ImageReading;
import dev.dinoj.pipeline.ingest.ImageEncoding;
import dev.dinoj.pipeline.ingest.IngestSettings;

/**
 * What {@code curate} stores for a kept image ({@link StoreSettings}): the source bytes, or, when the shorter side is
 * over {@code max-side}, a JPEG of the upright image resized to that shorter side. Large sources are subsampled while
 * decoding to twice the target first, so re-encoding a 9000 × 9000 photo holds a few MB, not a gigabyte of floats.
 */
final class StoredImage {
    private StoredImage() {}

    /**
     * Bytes as stored.
     *
     * @param data   the stored bytes
     * @param format their format
     * @param width  stored width (null when unknown)
     * @param height stored height (null when unknown)
     * @param source the source when re-encoded, else null
     */
    record Stored(byte[] data, String format, Integer width, Integer height, CuratedIndexEntry.Source source) {}

    /**
     * The stored form of {@code data} ({@code format} as ingestion recognised it).
     *
     * @param name the source object, for messages
     * @throws IllegalStateException when an image that ingestion decoded can no longer be decoded
     */
    static Stored store(String name, byte[] data, String format, StoreSettings st, IngestSettings is) {
        if (!ImageFormat.isPicture(ImageFormat.sniff(data))) {
            return new Stored(data, format, null, null, null); // e.g. gzip around a picture: stored as it came
        }
        int[] size;
        try {
            size = ImageReading.size(data, format);
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(
                    name + ": " + e.getMessage() + " (it decoded at ingestion); curate again", e);
        }
        int w = size[0];
        int h = size[1];
        if (!st.reencodes(w, h)) {
            return new Stored(data, format, w, h, null);
        }
        int step = Math.max(1, Math.min(w, h) / (2 * st.maxSide()));
        int decodeSide = (Math.max(w, h) + step - 1) / step;
        ImageReading.Result r =
                ImageReading.read(data, format, new ImageReading.Limits(is.maxImagePixels(), 1, decodeSide));
        if (!(r instanceof ImageReading.Decoded d)) {
            throw new IllegalStateException(
                    name + ": " + ((ImageReading.Refused) r).detail() + " (it decoded at ingestion); curate again");
        }
        // the target from the source's own size (subsampling rounds), as torchvision's Resize(max-side) would give it
        boolean turned = ExifOrientation.transposes(d.orientation());
        int uw = turned ? h : w;
        int uh = turned ? w : h;
        int side = st.maxSide();
        int tw = uw <= uh ? side : (int) ((long) side * uw / uh);
        int th = uw <= uh ? (int) ((long) side * uh / uw) : side;
        RgbImage upright = Geometric.resize(RgbImage.of(d.image(), d.orientation()), tw, th);
        return new Stored(
                ImageEncoding.jpeg(upright, st.jpegQuality()),
                "jpeg",
                upright.width(),
                upright.height(),
                new CuratedIndexEntry.Source(format, data.length, w, h));
    }
}
