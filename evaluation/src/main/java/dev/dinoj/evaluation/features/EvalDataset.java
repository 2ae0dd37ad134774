package dev.dinoj.evaluation.features;

import dev.dinoj.evaluation.transform.DatasetViews;
import dev.dinoj.evaluation.transform.EvalTransform;
import dev.dinoj.pipeline.data.IdxDataset;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.storage.CacheKeys;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A dataset with a stable name for cache keys: the same id must always mean the same images in the same order
 * (a corrupted or augmented view carries its transform and seed in the id).
 *
 * @param id the stable name, e.g. {@code fashion-mnist:test} or {@code fashion-mnist:test|gaussian_noise@3}
 * @param images the images
 * @param classes the class names by label (empty when they have none, e.g. an IDX file's)
 * @param side the side features are taken at when an {@link EvalTransform} fixed it (its crop), else 0: the model's
 *     input side ({@link ModelSource#evalSize})
 */
public record EvalDataset(String id, ImageDataset images, List<String> classes, int side) {

    /** Fashion-MNIST's class names, by label. */
    public static final List<String> FASHION_MNIST_CLASSES = List.of(
            "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    public EvalDataset {
        classes = List.copyOf(classes);
    }

    /**
     * A dataset without class names, its features taken at the model's side.
     *
     * @param id the stable name
     * @param images the images
     */
    public EvalDataset(String id, ImageDataset images) {
        this(id, images, List.of(), 0);
    }

    /**
     * Fashion-MNIST's train or test split from the Debian package directory.
     *
     * @param dir the directory of the IDX files
     * @param train the 60000 training images, else the 10000 test images
     * @return the dataset
     */
    public static EvalDataset fashionMnist(Path dir, boolean train) {
        return new EvalDataset(
                "fashion-mnist:" + (train ? "train" : "test"),
                IdxDataset.fashionMnist(dir, train),
                FASHION_MNIST_CLASSES,
                0);
    }

    /** @return the number of images */
    public int size() {
        return images.size();
    }

    /** @return the side of the first image (the datasets used here are square) */
    public int nativeSize() {
        return images.image(0).width();
    }

    /**
     * The name of a class.
     *
     * @param label a label
     * @return its name, or {@code class N} when the dataset names none
     */
    public String className(int label) {
        return label >= 0 && label < classes.size() ? classes.get(label) : "class " + label;
    }

    /**
     * A derived dataset (same class names and side).
     *
     * @param suffix appended to the id after {@code |}
     * @param derived the derived images
     * @return the dataset
     */
    public EvalDataset derive(String suffix, ImageDataset derived) {
        return new EvalDataset(id + "|" + suffix, derived, classes, side);
    }

    /**
     * Each image through {@code t} when it is read (one image decoded at a time, never the whole set); features are
     * then taken at the crop's side.
     *
     * @param t the evaluation transform
     * @return the dataset
     */
    public EvalDataset transformed(EvalTransform t) {
        return new EvalDataset(
                id + "|" + t.id(), DatasetViews.mapped(images, (i, img) -> t.apply(img), t.id()), classes, t.crop());
    }

    /**
     * This (test) dataset with the labels of {@code names} (a training set's classes), matched by class name: a test
     * set may lack some of the training classes, never have others. Unchanged when either has no names or they are
     * the same.
     *
     * @param names the class names to label by
     * @return the dataset
     * @throws IllegalArgumentException naming a class that {@code names} lacks
     */
    public EvalDataset labelledAs(List<String> names) {
        if (classes.isEmpty() || names.isEmpty() || classes.equals(names)) {
            return this;
        }
        Map<String, Integer> index = new HashMap<>();
        for (int i = 0; i < names.size(); i++) {
            index.put(names.get(i), i);
        }
        int[] map = new int[classes.size()];
        for (int c = 0; c < map.length; c++) {
            Integer to = index.get(classes.get(c));
            if (to == null) {
                throw new IllegalArgumentException(
                        id + ": class \"" + classes.get(c) + "\" is not a class of the training data " + names);
            }
            map[c] = to;
        }
        int[] all = new int[images.size()];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        ImageDataset source = images;
        return new EvalDataset(
                id + "|classes=" + CacheKeys.sha256Hex(String.join("\n", names), 12),
                DatasetViews.labelled( // asked when read: a label follows the image the pixel guard let through
                        source,
                        all,
                        i -> {
                            int l = source.label(i);
                            return l < 0 ? -1 : map[l];
                        },
                        names.size(),
                        "labelled by the training classes"),
                names,
                side);
    }
}
