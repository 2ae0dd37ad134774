package dev.dinoj.evaluation.transform;

import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.RgbImage;

/**
 * Read-only views of an {@link ImageDataset}: a subset of its indices, or each image passed through a
 * deterministic transform of (index, image). Views decode lazily and are as thread-safe as their source.
 */
public final class DatasetViews {

    /** A transform of one image; must depend only on its arguments. */
    @FunctionalInterface
    public interface ImageTransform {
        /**
         * @param index the image's index in the view
         * @param image the source image
         * @return the transformed image
         */
        RgbImage apply(int index, RgbImage image);
    }

    /** Supplies a label for an index of a view. */
    @FunctionalInterface
    public interface Labeler {
        /**
         * @param index the image's index in the view
         * @return its label
         */
        int label(int index);
    }

    private DatasetViews() {}

    /**
     * The images at {@code indices} of {@code source}, in that order.
     *
     * @param source the dataset
     * @param indices indices into it
     * @param name a short description for {@link ImageDataset#describe()}
     * @return the view
     */
    public static ImageDataset subset(ImageDataset source, int[] indices, String name) {
        int[] idx = indices.clone();
        for (int i : idx) {
            if (i < 0 || i >= source.size()) {
                throw new IndexOutOfBoundsException("index " + i + " not in [0, " + source.size() + ")");
            }
        }
        return new View(source, idx, null, null, name);
    }

    /**
     * The first {@code n} images of {@code source}.
     *
     * @param source the dataset
     * @param n how many
     * @return the view
     */
    public static ImageDataset first(ImageDataset source, int n) {
        int[] idx = new int[Math.min(n, source.size())];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        return new View(source, idx, null, null, "first " + idx.length);
    }

    /**
     * The images at {@code indices}, each through {@code transform}, labelled by {@code labeler} (or the source's
     * labels when null).
     *
     * @param source the dataset
     * @param indices the source image of each view index
     * @param transform applied to (view index, source image)
     * @param labeler the labels, or null to keep the source's
     * @param name a short description
     * @return the view
     */
    public static ImageDataset mapped(
            ImageDataset source, int[] indices, ImageTransform transform, Labeler labeler, String name) {
        return new View(source, indices.clone(), transform, labeler, name);
    }

    /**
     * Every image of {@code source} through {@code transform}, labels kept.
     *
     * @param source the dataset
     * @param transform applied to (index, image)
     * @param name a short description
     * @return the view
     */
    public static ImageDataset mapped(ImageDataset source, ImageTransform transform, String name) {
        int[] idx = new int[source.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        return new View(source, idx, transform, null, name);
    }

    /**
     * Every image of {@code source} with new labels: {@code labels[i]} in {@code [0, numClasses)}.
     *
     * @param source the dataset
     * @param labels a label per image
     * @param numClasses the number of classes of the view
     * @param name a short description
     * @return the view
     */
    public static ImageDataset relabelled(ImageDataset source, int[] labels, int numClasses, String name) {
        if (labels.length != source.size()) {
            throw new IllegalArgumentException(
                    labels.length + " labels for " + source.size() + " images of " + source.describe());
        }
        int[] idx = new int[source.size()];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        int[] l = labels.clone();
        return new View(source, idx, null, i -> l[i], name, numClasses);
    }

    /**
     * The images at {@code indices} of {@code source}, labelled by {@code labeler} (asked when a label is read, so it
     * may look at the image actually read, e.g. {@link dev.dinoj.pipeline.data.EncodedImages#used}).
     *
     * @param source the dataset
     * @param indices the source image of each view index
     * @param labeler the label of each view index
     * @param numClasses the number of classes of the view
     * @param name a short description
     * @return the view
     */
    public static ImageDataset labelled(
            ImageDataset source, int[] indices, Labeler labeler, int numClasses, String name) {
        for (int i : indices) {
            if (i < 0 || i >= source.size()) {
                throw new IndexOutOfBoundsException("index " + i + " not in [0, " + source.size() + ")");
            }
        }
        return new View(source, indices.clone(), null, labeler, name, numClasses);
    }

    private static final class View implements ImageDataset {
        private final ImageDataset source;
        private final int[] indices;
        private final ImageTransform transform;
        private final Labeler labeler;
        private final String name;
        private final int numClasses; // -1: the source's

        View(ImageDataset source, int[] indices, ImageTransform transform, Labeler labeler, String name) {
            this(source, indices, transform, labeler, name, -1);
        }

        View(
                ImageDataset source,
                int[] indices,
                ImageTransform transform,
                Labeler labeler,
                String name,
                int numClasses) {
            this.source = source;
            this.indices = indices;
            this.transform = transform;
            this.labeler = labeler;
            this.name = name;
            this.numClasses = numClasses;
        }

        @Override
        public int size() {
            return indices.length;
        }

        @Override
        public RgbImage image(int index) {
            RgbImage img = source.image(indices[index]);
            return transform == null ? img : transform.apply(index, img);
        }

        @Override
        public int label(int index) {
            return labeler == null ? source.label(indices[index]) : labeler.label(index);
        }

        @Override
        public int numClasses() {
            return numClasses >= 0 ? numClasses : source.numClasses();
        }

        @Override
        public String describe() {
            return source.describe() + " [" + name + ", " + indices.length + " images]";
        }
    }
}
