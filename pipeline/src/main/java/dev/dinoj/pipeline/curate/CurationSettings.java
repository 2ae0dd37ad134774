package dev.dinoj.pipeline.curate;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import dev.dinoj.pipeline.ingest.IngestSettings;
import java.util.List;
import java.util.Locale;

/**
 * Everything {@code dinoj curate} can tune ({@code dinoj.curate} in {@code reference.conf}).
 *
 * @param ingest             listing, download, decode and embedding knobs
 * @param nearDuplicateK     neighbours per image in the copy-detection graph
 * @param nearDuplicateThreshold cosine similarity at or above which two images are copies (cosine copy embedders)
 * @param alignedThreshold   normalised score at or above which two images are copies ({@code copy:SIDE}, {@link
 *                           AlignedCopyDetector})
 * @param retrievalPerQuery  sample-based retrieval: nearest pool images per query image
 * @param retrievalPerCluster cluster-based retrieval: images taken from each query's cluster
 * @param retrievalClusters  k of the pool k-means for cluster-based retrieval (0 = 2·√pool)
 * @param hierarchyLevels    clusters per level of the hierarchical k-means, finest first (empty = sized to the pool)
 * @param kmeansIterations   Lloyd iterations of every k-means
 * @param resamples          resampling steps per hierarchy level
 * @param resampleStrategy   closest | random
 * @param samplePick         how balanced sampling draws from level-1 clusters: random | closest
 * @param approximateAbove   pools larger than this use the approximate index (0 = always exact)
 * @param nprobe             lists probed by the approximate index
 * @param shardImages        images per output shard
 * @param seed               seed of every random choice
 * @param store              how kept images are stored (re-encoding of large ones)
 */
public record CurationSettings(
        IngestSettings ingest,
        int nearDuplicateK,
        float nearDuplicateThreshold,
        float alignedThreshold,
        int retrievalPerQuery,
        int retrievalPerCluster,
        int retrievalClusters,
        int[] hierarchyLevels,
        int kmeansIterations,
        int resamples,
        HierarchicalKMeans.Strategy resampleStrategy,
        BalancedSampler.Pick samplePick,
        int approximateAbove,
        int nprobe,
        int shardImages,
        long seed,
        StoreSettings store) {

    public CurationSettings {
        if (nearDuplicateK < 1) {
            throw bad("near-duplicate.k", "must be >= 1");
        }
        if (!(nearDuplicateThreshold > 0 && nearDuplicateThreshold <= 1)) {
            throw bad("near-duplicate.threshold", "must be in (0, 1]: " + nearDuplicateThreshold);
        }
        if (!(alignedThreshold > -1 && alignedThreshold <= 1)) {
            throw bad("near-duplicate.aligned-threshold", "must be in (-1, 1]: " + alignedThreshold);
        }
        if (retrievalPerQuery < 0 || retrievalPerCluster < 0 || retrievalClusters < 0) {
            throw bad("retrieval", "counts must be >= 0");
        }
        if (kmeansIterations < 0 || resamples < 0 || nprobe < 1 || shardImages < 1 || approximateAbove < 0) {
            throw bad("hierarchy", "iterations/resamples/nprobe/shard-images out of range");
        }
    }

    private static ConfigException bad(String key, String msg) {
        return new ConfigException.BadValue("dinoj.curate." + key, msg);
    }

    /** The {@code reference.conf} defaults. */
    public static CurationSettings defaults() {
        return new CurationSettings(
                IngestSettings.defaults(),
                16,
                0.992f,
                AlignedCopyDetector.NORMALISED_THRESHOLD,
                20,
                20,
                0,
                new int[0],
                20,
                10,
                HierarchicalKMeans.Strategy.CLOSEST,
                BalancedSampler.Pick.RANDOM,
                200_000,
                16,
                10_000,
                0,
                StoreSettings.defaults());
    }

    /** Reads {@code dinoj.curate}. */
    public static CurationSettings fromConfig(Config root) {
        Config c = root.getConfig("dinoj.curate");
        List<Integer> levels = c.getIntList("hierarchy.levels");
        return new CurationSettings(
                IngestSettings.fromConfig(root),
                c.getInt("near-duplicate.k"),
                (float) c.getDouble("near-duplicate.threshold"),
                (float) c.getDouble("near-duplicate.aligned-threshold"),
                c.getInt("retrieval.per-query"),
                c.getInt("retrieval.per-cluster"),
                c.getInt("retrieval.clusters"),
                levels.stream().mapToInt(Integer::intValue).toArray(),
                c.getInt("hierarchy.kmeans-iterations"),
                c.getInt("hierarchy.resamples"),
                HierarchicalKMeans.Strategy.valueOf(
                        c.getString("hierarchy.resample-strategy").toUpperCase(Locale.ROOT)),
                BalancedSampler.Pick.valueOf(
                        c.getString("hierarchy.sample-pick").toUpperCase(Locale.ROOT)),
                c.getInt("search.approximate-above"),
                c.getInt("search.nprobe"),
                c.getInt("output.shard-images"),
                c.getLong("seed"),
                StoreSettings.fromConfig(c));
    }

    public CurationSettings withIngest(IngestSettings i) {
        return new CurationSettings(
                i,
                nearDuplicateK,
                nearDuplicateThreshold,
                alignedThreshold,
                retrievalPerQuery,
                retrievalPerCluster,
                retrievalClusters,
                hierarchyLevels,
                kmeansIterations,
                resamples,
                resampleStrategy,
                samplePick,
                approximateAbove,
                nprobe,
                shardImages,
                seed,
                store);
    }

    public CurationSettings withNearDuplicateThreshold(float t) {
        return new CurationSettings(
                ingest,
                nearDuplicateK,
                t,
                alignedThreshold,
                retrievalPerQuery,
                retrievalPerCluster,
                retrievalClusters,
                hierarchyLevels,
                kmeansIterations,
                resamples,
                resampleStrategy,
                samplePick,
                approximateAbove,
                nprobe,
                shardImages,
                seed,
                store);
    }

    public CurationSettings withRetrieval(int perQuery, int perCluster, int clusters) {
        return new CurationSettings(
                ingest,
                nearDuplicateK,
                nearDuplicateThreshold,
                alignedThreshold,
                perQuery,
                perCluster,
                clusters,
                hierarchyLevels,
                kmeansIterations,
                resamples,
                resampleStrategy,
                samplePick,
                approximateAbove,
                nprobe,
                shardImages,
                seed,
                store);
    }

    public CurationSettings withStore(StoreSettings st) {
        return new CurationSettings(
                ingest,
                nearDuplicateK,
                nearDuplicateThreshold,
                alignedThreshold,
                retrievalPerQuery,
                retrievalPerCluster,
                retrievalClusters,
                hierarchyLevels,
                kmeansIterations,
                resamples,
                resampleStrategy,
                samplePick,
                approximateAbove,
                nprobe,
                shardImages,
                seed,
                st);
    }

    public CurationSettings withShardImages(int n) {
        return new CurationSettings(
                ingest,
                nearDuplicateK,
                nearDuplicateThreshold,
                alignedThreshold,
                retrievalPerQuery,
                retrievalPerCluster,
                retrievalClusters,
                hierarchyLevels,
                kmeansIterations,
                resamples,
                resampleStrategy,
                samplePick,
                approximateAbove,
                nprobe,
                n,
                seed,
                store);
    }
}
