package dev.dinoj.evaluation.features;

import dev.dinoj.pipeline.data.IdxDataset;
import dev.dinoj.pipeline.data.ImageDataset;
import java.nio.file.Path;

/**
 * A dataset with a stable name for cache keys: the same id must always mean the same images in the same order
 * (a corrupted or augmented view carries its transform and seed in the id).
 *
 * @param id the stable name, e.g. {@code fashion-mnist:test} or {@code fashion-mnist:test|gaussian_noise@3}
 * @param images the images
 */
public record EvalDataset(String id, ImageDataset images) {

    /**
     * Fashion-MNIST's train or test split from the Debian package directory.
     *
     * @param dir the directory of the IDX files
     * @param train the 60000 training images, else the 10000 test images
     * @return the dataset
     */
    public static EvalDataset fashionMnist(Path dir, boolean train) {
        return new EvalDataset("fashion-mnist:" + (train ? "train" : "test"), IdxDataset.fashionMnist(dir, train));
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
     * A derived dataset.
     *
     * @param suffix appended to the id after {@code |}
     * @param derived the derived images
     * @return the dataset
     */
    public EvalDataset derive(String suffix, ImageDataset derived) {
        return new EvalDataset(id + "|" + suffix, derived);
    }
}
