package dev.dinoj.trainer.config;

import dev.dinoj.pipeline.data.IdxDataset;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.ImageFolderDataset;

import java.nio.file.Path;

/**
 * Where images come from: {@code fashion-mnist:train|test}, {@code idx:IMAGES_FILE} or {@code folder:/path}.
 */
public record DatasetSpec(String kind, String location, Path fashionMnistDir) {

    public static DatasetSpec parse(String spec, Path fashionMnistDir) {
        int colon = spec.indexOf(':');
        String kind = colon < 0 ? "" : spec.substring(0, colon);
        String loc = colon < 0 ? "" : spec.substring(colon + 1);
        switch (kind) {
            case "fashion-mnist":
                if (!loc.equals("train") && !loc.equals("test")) {
                    break;
                }
                return new DatasetSpec(kind, loc, fashionMnistDir);
            case "idx":
            case "folder":
                if (loc.isEmpty()) {
                    break;
                }
                return new DatasetSpec(kind, loc, fashionMnistDir);
            default:
                break;
        }
        throw new ConfigError("dinoj.data.dataset = \"" + spec + "\": use fashion-mnist:train, fashion-mnist:test, "
                + "idx:/path/to/images-idx3-ubyte[.gz] or folder:/path/to/images");
    }

    /** Opens the dataset (reads IDX files into memory; lists folders). */
    public ImageDataset open() {
        switch (kind) {
            case "fashion-mnist":
                return IdxDataset.fashionMnist(fashionMnistDir, location.equals("train"));
            case "idx":
                return IdxDataset.open(Path.of(location), null);
            default:
                return ImageFolderDataset.open(Path.of(location));
        }
    }

    /** The matching labelled test split, for k-NN (Fashion-MNIST only). */
    public DatasetSpec withSplit(String split) {
        return new DatasetSpec(kind, split, fashionMnistDir);
    }

    @Override
    public String toString() {
        return kind + ":" + location;
    }
}
