package dev.dinoj.actors.data;

import com.typesafe.config.Config;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.trainer.config.DatasetSpec;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** One opened dataset per spec and JVM, shared by the data-shard entities of this node. */
public final class DatasetCache {

    private static final Map<String, ImageDataset> OPEN = new ConcurrentHashMap<>();

    private DatasetCache() {}

    /**
     * Opens with the storage settings of {@code app}; a curated S3 set is fetched into {@code cacheDir} (one per node:
     * nodes on one host must not fetch into the same directory at once) by a local storage system
     * ({@link StorageSystem#config}), never one made of the node config.
     */
    public static ImageDataset open(String spec, Path fashionMnistDir, Path cacheDir, Config app) {
        return OPEN.computeIfAbsent(
                spec + "|" + fashionMnistDir,
                k -> DatasetSpec.parse(spec, fashionMnistDir, cacheDir)
                        .open(StorageSettings.fromConfig(app), StorageSystem.config(app)));
    }
}
