package dev.dinoj.pipeline.data;

/**
 * A finite, indexable set of images with optional class labels.
 *
 * <p>Indices {@code 0 .. size()-1} are stable: the same source always yields the same image at the same
 * index, so a sampler position is enough to resume a run. Implementations must be safe for concurrent
 * {@link #image} calls from several loader threads.
 */
public interface ImageDataset {
    /** Number of images. */
    int size();

    /**
     * Decodes image {@code index}.
     *
     * @throws IndexOutOfBoundsException if {@code index} is not in {@code [0, size())}
     * @throws DatasetException          if the image cannot be decoded
     */
    RgbImage image(int index);

    /** Class label of image {@code index} in {@code [0, numClasses())}, or -1 if the dataset has no labels. */
    int label(int index);

    /** Number of classes; 0 if the dataset has no labels. */
    int numClasses();

    /** One line for logs: the source, the number of images, their size and the number of classes. */
    String describe();
}
