package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.pipeline.search.KMeans;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Hierarchical k-means with resampling steps (Vo et al. 2024, "Automatic data curation for self-supervised learning";
 * facebookresearch/ssl-data-curation {@code hierarchical_kmeans_with_resampling}).
 *
 * <p>Level 1 clusters the points, level {@code l > 1} clusters the centroids of level {@code l − 1}. Within a level,
 * after the first k-means, each resampling step takes {@code sampleSize} items from every cluster (the closest to
 * its centroid, or random ones), runs k-means on that sample only, and reassigns every item to the new centroids.
 * This pulls centroids away from dense regions towards a more uniform cover of the data, which is what balanced
 * sampling ({@link BalancedSampler}) then exploits.
 */
public final class HierarchicalKMeans {
    private HierarchicalKMeans() {}

    /** How resampling steps pick items from each cluster. */
    public enum Strategy {
        /** The items closest to the centroid (ssl-data-curation's default "c"). */
        CLOSEST,
        /** Random items ("r"). */
        RANDOM
    }

    /**
     * @param clusters    clusters per level, level 1 (finest) first
     * @param iterations  Lloyd iterations of every k-means
     * @param resamples   resampling steps per level (0 = plain hierarchical k-means)
     * @param sampleSizes items sampled per cluster in the resampling steps, per level (≤ 1 disables resampling there);
     *                    null = half the average cluster size of the level, as the reference configs choose
     * @param strategy    how the resampling picks items
     * @param seed        random seed
     */
    public record Settings(
            int[] clusters, int iterations, int resamples, int[] sampleSizes, Strategy strategy, long seed) {
        public Settings {
            if (clusters == null || clusters.length == 0) {
                throw new IllegalArgumentException("hierarchical k-means needs at least one level");
            }
            for (int k : clusters) {
                if (k < 1) {
                    throw new IllegalArgumentException("clusters per level must be >= 1: " + Arrays.toString(clusters));
                }
            }
            if (sampleSizes != null && sampleSizes.length != clusters.length) {
                throw new IllegalArgumentException("one sample size per level: " + Arrays.toString(sampleSizes));
            }
        }

        /**
         * Levels sized for {@code n} points: level 1 with {@code clamp(2·√n, 2, 4096)} clusters, and a second level of
         * {@code √k₁} clusters when level 1 has more than 64.
         */
        public static Settings auto(int n, int iterations, int resamples, Strategy strategy, long seed) {
            int k1 = (int) Math.max(2, Math.min(4096, Math.round(2 * Math.sqrt(n))));
            k1 = Math.min(k1, Math.max(1, n));
            int[] levels = k1 > 64 ? new int[] {k1, (int) Math.max(2, Math.round(Math.sqrt(k1)))} : new int[] {k1};
            return new Settings(levels, iterations, resamples, null, strategy, seed);
        }
    }

    /**
     * One level.
     *
     * @param centroids  {@code [k, d]}
     * @param assignment cluster of every item of the level's input (points for level 1, level-below clusters above)
     * @param clusters   members (input items) of every cluster, closest to the centroid first
     */
    public record Level(FloatMatrix centroids, int[] assignment, int[][] clusters) {}

    /**
     * The hierarchy.
     *
     * @param points number of points (level-1 items)
     * @param levels level 1 first
     */
    public record Hierarchy(int points, List<Level> levels) {
        /** Number of levels. */
        public int depth() {
            return levels.size();
        }

        /** Level {@code l}, 1-based. */
        public Level level(int l) {
            return levels.get(l - 1);
        }

        /** Number of points under each cluster of level {@code l} (1-based). */
        public int[] flatSizes(int l) {
            int[] sizes = new int[level(1).clusters().length];
            for (int c = 0; c < sizes.length; c++) {
                sizes[c] = level(1).clusters()[c].length;
            }
            for (int lv = 2; lv <= l; lv++) {
                int[][] cl = level(lv).clusters();
                int[] up = new int[cl.length];
                for (int c = 0; c < cl.length; c++) {
                    for (int sub : cl[c]) {
                        up[c] += sizes[sub];
                    }
                }
                sizes = up;
            }
            return sizes;
        }

        /** Cluster ids of point {@code p} from the top level down to level 1. */
        public int[] path(int p) {
            int[] out = new int[levels.size()];
            int item = p;
            for (int l = 1; l <= levels.size(); l++) {
                item = level(l).assignment()[item];
                out[levels.size() - l] = item;
            }
            return out;
        }
    }

    /**
     * Clusters {@code x}.
     *
     * @param progress receives one line per level/resampling step (may be null)
     */
    public static Hierarchy fit(FloatMatrix x, Settings s, Consumer<String> progress) {
        List<Level> levels = new ArrayList<>();
        FloatMatrix input = x;
        SplittableRandom rnd = new SplittableRandom(s.seed());
        for (int l = 0; l < s.clusters().length; l++) {
            int k = Math.min(s.clusters()[l], input.rows());
            long seed = s.seed() * 1_000_003L + l;
            KMeans.Result km = KMeans.fit(input, KMeans.Settings.of(k, s.iterations(), seed));
            FloatMatrix centroids = km.centroids();
            int[] assignment = km.assignment();
            int[][] clusters = km.clustersByDistance();
            int sampleSize =
                    s.sampleSizes() != null ? s.sampleSizes()[l] : Math.max(1, input.rows() / Math.max(1, k) / 2);
            if (progress != null) {
                progress.accept(String.format(
                        "level %d: %d items into %d clusters (inertia %.4g)", l + 1, input.rows(), k, km.inertia()));
            }
            if (sampleSize > 1) {
                for (int r = 0; r < s.resamples(); r++) {
                    int[] sample = resample(clusters, sampleSize, s.strategy(), rnd);
                    if (sample.length < k) {
                        break;
                    }
                    KMeans.Result rk = KMeans.fit(
                            input.select(sample), KMeans.Settings.of(k, s.iterations(), seed + 7919L * (r + 1)));
                    centroids = rk.centroids();
                    KMeans.Assignment a = KMeans.assign(input, centroids, 128L << 20);
                    assignment = a.assignment();
                    clusters = KMeans.clusters(assignment, a.distances(), k);
                }
                if (progress != null && s.resamples() > 0) {
                    progress.accept(String.format(
                            "level %d: %d resampling steps of %d items per cluster", l + 1, s.resamples(), sampleSize));
                }
            }
            levels.add(new Level(centroids, assignment, clusters));
            input = centroids;
        }
        return new Hierarchy(x.rows(), levels);
    }

    /** {@code size} items of every cluster: the first ones (closest) or random ones; sorted ids. */
    static int[] resample(int[][] clusters, int size, Strategy strategy, SplittableRandom rnd) {
        int total = 0;
        for (int[] c : clusters) {
            total += Math.min(size, c.length);
        }
        int[] out = new int[total];
        int o = 0;
        for (int[] c : clusters) {
            int take = Math.min(size, c.length);
            if (strategy == Strategy.CLOSEST || take == c.length) {
                System.arraycopy(c, 0, out, o, take);
            } else {
                int[] pick = KMeans.sampleWithoutReplacement(c.length, take, rnd);
                for (int i = 0; i < take; i++) {
                    out[o + i] = c[pick[i]];
                }
            }
            o += take;
        }
        Arrays.sort(out);
        return out;
    }
}
