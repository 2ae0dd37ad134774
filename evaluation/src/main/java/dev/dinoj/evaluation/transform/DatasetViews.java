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

    private static final class View implements ImageDataset {
        private final ImageDataset source;
        private final int[] indices;
        private final ImageTransform transform;
        private final Labeler labeler;
        private final String name;

        View(ImageDataset source, int[] indices, ImageTransform transform, Labeler labeler, String name) {
            this.source = source;
            this.indices = indices;
            this.transform = transform;
            this.labeler = labeler;
            this.name = name;
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
            return source.numClasses();
        }

        @Override
        public String describe() {
            return source.describe() + " [" + name + ", " + indices.length + " images]";
        }
    }
}
