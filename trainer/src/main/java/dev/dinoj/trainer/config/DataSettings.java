package dev.dinoj.trainer.config;

import java.nio.file.Path;

/**
 * Where the images come from and how they are loaded ({@code dinoj.data.*}).
 *
 * @param dataset           the dataset spec ({@code data.dataset}, with the Fashion-MNIST folder and the cache)
 * @param loaderThreadsSet  {@code data.loader-threads} as configured (0 = one per core)
 * @param prefetch          batches prepared ahead of the step
 */
public record DataSettings(DatasetSpec dataset, int loaderThreadsSet, int prefetch) {

    static DataSettings from(ConfigReader r) {
        int threads = r.intAt("dinoj.data.loader-threads", 0, Bounds.THREADS);
        int prefetch = r.intAt("dinoj.data.prefetch", 1, Bounds.PREFETCH);
        DatasetSpec spec = DatasetSpec.parse(
                r.string("dinoj.data.dataset"),
                Path.of(r.string("dinoj.data.fashion-mnist-dir")),
                Path.of(r.string("dinoj.data.cache-dir")));
        return new DataSettings(spec, threads, prefetch);
    }

    /** Augmentation threads of the batch loader: {@code data.loader-threads}, or one per core. */
    public int loaderThreads() {
        return loaderThreadsSet > 0 ? loaderThreadsSet : Runtime.getRuntime().availableProcessors();
    }
}
