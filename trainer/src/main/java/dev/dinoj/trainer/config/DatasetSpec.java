package dev.dinoj.trainer.config;

import com.typesafe.config.Config;
import dev.dinoj.pipeline.curate.CuratedDataset;
import dev.dinoj.pipeline.data.IdxDataset;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.ImageFolderDataset;
import dev.dinoj.pipeline.data.PixelGuard;
import dev.dinoj.pipeline.storage.CacheKeys;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import java.nio.file.Path;

/**
 * Where images come from: {@code fashion-mnist:train|test}, {@code idx:IMAGES_FILE}, {@code folder:/path} or
 * {@code curated:DIR|s3://bucket/prefix} (a dataset written by {@code dinoj curate}; an S3 one is first copied into
 * {@code cacheDir}, once per content).
 */
public record DatasetSpec(String kind, String location, Path fashionMnistDir, Path cacheDir) {

    public DatasetSpec(String kind, String location, Path fashionMnistDir) {
        this(kind, location, fashionMnistDir, Path.of(".dinoj-work", "datasets"));
    }

    public static DatasetSpec parse(String spec, Path fashionMnistDir) {
        return parse(spec, fashionMnistDir, Path.of(".dinoj-work", "datasets"));
    }

    public static DatasetSpec parse(String spec, Path fashionMnistDir, Path cacheDir) {
        int colon = spec.indexOf(':');
        String kind = colon < 0 ? "" : spec.substring(0, colon);
        String loc = colon < 0 ? "" : spec.substring(colon + 1);
        switch (kind) {
            case "fashion-mnist":
                if (!loc.equals("train") && !loc.equals("test")) {
                    break;
                }
                return new DatasetSpec(kind, loc, fashionMnistDir, cacheDir);
            case "idx":
            case "folder":
                if (loc.isEmpty()) {
                    break;
                }
                return new DatasetSpec(kind, loc, fashionMnistDir, cacheDir);
            case "curated":
                if (loc.isEmpty()) {
                    break;
                }
                try {
                    StorageUri.parse(loc);
                } catch (IllegalArgumentException e) {
                    throw new ConfigError("dinoj.data.dataset = \"" + spec + "\": " + e.getMessage());
                }
                return new DatasetSpec(kind, loc, fashionMnistDir, cacheDir);
            default:
                break;
        }
        throw new ConfigError("dinoj.data.dataset = \"" + spec + "\": use fashion-mnist:train, fashion-mnist:test, "
                + "idx:/path/to/images-idx3-ubyte[.gz], folder:/path/to/images or curated:DIR|s3://bucket/prefix "
                + "(written by dinoj curate)");
    }

    /**
     * Opens the dataset (reads IDX files into memory; lists folders; opens curated shards), fetching a curated S3
     * dataset with {@code storage} (a run's: {@link TrainSettings#openDataset}).
     */
    public ImageDataset open(StorageSettings storage, Config app) {
        PixelGuard guard = guard(app);
        switch (kind) {
            case "curated": {
                StorageUri uri = StorageUri.parse(location);
                Path local = uri.isS3()
                        ? CuratedDataset.fetch(
                                uri, storage, app, cacheDir.resolve("curated-" + CacheKeys.sha256Hex(location, 12)))
                        : uri.localPath();
                return CuratedDataset.open(local, guard);
            }
            case "fashion-mnist":
                return IdxDataset.fashionMnist(fashionMnistDir, location.equals("train"));
            case "idx":
                return IdxDataset.open(Path.of(location), null);
            default:
                return ImageFolderDataset.open(Path.of(location), guard);
        }
    }

    /** The pixel guard of {@code dinoj.data.max-image-pixels} ({@link PixelGuard#DEFAULT_MAX_PIXELS} when unset). */
    public static PixelGuard guard(Config app) {
        if (!app.hasPath(PixelGuard.KEY)) {
            return PixelGuard.standard();
        }
        long max = app.getLong(PixelGuard.KEY);
        if (max < 1) {
            throw new ConfigError(PixelGuard.KEY + " = " + max + ": must be at least 1 (pixels, width x height)");
        }
        return new PixelGuard(max);
    }

    /** The matching labelled test split, for k-NN (Fashion-MNIST only). */
    public DatasetSpec withSplit(String split) {
        return new DatasetSpec(kind, split, fashionMnistDir, cacheDir);
    }

    @Override
    public String toString() {
        return kind + ":" + location;
    }
}
