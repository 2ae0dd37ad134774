package dev.dinoj.actors.data;

import dev.dinoj.pipeline.data.ImageDataset;
import com.typesafe.config.Config;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.trainer.config.DatasetSpec;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** One opened dataset per spec and JVM, shared by the data-shard entities of this node. */
public final class DatasetCache {

    private static final Map<String, ImageDataset> OPEN = new ConcurrentHashMap<>();

    private DatasetCache() {
    }

    public static ImageDataset open(String spec, Path fashionMnistDir) {
        return OPEN.computeIfAbsent(spec + "|" + fashionMnistDir, k -> DatasetSpec.parse(spec, fashionMnistDir).open());
    }

    /** Opens with the storage settings of {@code app} ({@code dinoj.storage.*}, environment) for a curated S3 set. */
    public static ImageDataset open(String spec, Path fashionMnistDir, Config app) {
        return OPEN.computeIfAbsent(spec + "|" + fashionMnistDir, k -> DatasetSpec.parse(spec, fashionMnistDir)
                .open(StorageSettings.fromConfig(app), app));
    }
}
