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

    /**
     * The position of the image that {@link #encoded} and {@link #image} give for {@code index}: {@code index} itself,
     * or, when it is over the pixel guard, the image that takes its place. What belongs to an image (its label, its
     * key) follows it through this. Free once the image was read; else its header (and the next ones') is checked.
     *
     * @throws IndexOutOfBoundsException if {@code index} is not in {@code [0, size())}
     * @throws DatasetException          if an image cannot be read or is not a picture
     */
    default int used(int index) {
        if (!guard().resolved(index)) {
            encoded(index);
        }
        return guard().used(index);
    }

    /** The guard {@link #encoded} and {@link #image} apply. */
    PixelGuard guard();
}
