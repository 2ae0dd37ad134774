package dev.dinoj.pipeline.data;

/**
 * A dataset whose images are stored encoded (image files, curated shards): their bytes as stored can travel instead of
 * decoded pixels (a 500 × 375 JPEG is ~60 KB, its RGB planes 560 KB; a 4000 × 3000 photo's planes 36 MB), and whoever
 * receives them decodes with {@link PixelGuard#decode}.
 */
public interface EncodedImages extends ImageDataset {
    /**
     * The stored bytes of the image at position {@code index}: the image at {@code index}, or, when it is over the pixel
     * guard, the next one within it ({@link PixelGuard#firstWithin}); {@link #image} decodes exactly these bytes.
     *
     * @throws IndexOutOfBoundsException if {@code index} is not in {@code [0, size())}
     * @throws DatasetException          if an image cannot be read or is not a picture
     */
    byte[] encoded(int index);

    /** The guard {@link #encoded} and {@link #image} apply. */
    PixelGuard guard();
}
