package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.search.FlatIndex;
import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.pipeline.search.IvfIndex;
import dev.dinoj.pipeline.search.KMeans;
import dev.dinoj.pipeline.search.Neighbors;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Retrieval of pool images around query images, the two ways of the DINOv2 paper (§3, "Self-supervised image
 * retrieval"):
 *
 * <ul>
 *   <li><b>sample-based</b>: the {@code N} nearest pool images of every query image;</li>
 *   <li><b>cluster-based</b>: the pool is clustered with k-means; every query image is assigned to its nearest
 *       cluster, and {@code M} images of that cluster are taken (those closest to its centroid).</li>
 * </ul>
 * The union of both is returned, each pool image once, with the first reason that selected it.
 */
public final class Retrieval {
    private Retrieval() {}

    /**
     * @param perQuery          N, sample-based neighbours per query (0 = off)
     * @param perCluster        M, images per query's cluster (0 = off)
     * @param clusters          k of the pool's k-means for cluster-based retrieval (0 = 2·√pool)
     * @param iterations        k-means iterations
     * @param approximateAbove  pools larger than this are searched with {@link IvfIndex} (0 = always exact)
     * @param nprobe            lists probed by the approximate index
     * @param seed              k-means seed
     */
    public record Settings(
            int perQuery, int perCluster, int clusters, int iterations, int approximateAbove, int nprobe, long seed) {}

    /**
     * What was retrieved.
     *
     * @param reasons       pool index → why (first reason): {@code query:<query key>:<rank>} or
     *                      {@code cluster:<c>:<query key>}
     * @param poolClusters  the pool's cluster of every pool point (cluster-based), or null
     * @param perQueryCount query index → pool images it brought in (counted once per image, for the first reason)
     */
    public record Result(Map<Integer, String> reasons, int[] poolClusters, int[] perQueryCount) {}

    /**
     * Retrieves from {@code pool} (unit rows) around {@code queries} (unit rows named by {@code queryKeys}).
     */
    public static Result retrieve(FloatMatrix pool, FloatMatrix queries, String[] queryKeys, Settings s) {
        Map<Integer, String> reasons = new LinkedHashMap<>();
        int[] perQuery = new int[queries.rows()];
        int n = pool.rows();
        if (n == 0 || queries.rows() == 0) {
            return new Result(reasons, null, perQuery);
        }
        if (s.perQuery() > 0) {
            int k = Math.min(s.perQuery(), n);
            Neighbors nn;
            if (s.approximateAbove() > 0 && n > s.approximateAbove()) {
                try (IvfIndex ivf = IvfIndex.build(pool, s.seed())) {
                    nn = ivf.search(queries, k, s.nprobe());
                }
            } else {
                try (FlatIndex flat = new FlatIndex(pool)) {
                    nn = flat.search(queries, k);
                }
            }
            for (int q = 0; q < queries.rows(); q++) {
                for (int r = 0; r < k; r++) {
                    int id = nn.id(q, r);
                    if (id >= 0 && reasons.putIfAbsent(id, "query:" + queryKeys[q] + ":" + r) == null) {
                        perQuery[q]++;
                    }
                }
            }
        }
        int[] poolClusters = null;
        if (s.perCluster() > 0) {
            int k = s.clusters() > 0 ? s.clusters() : (int) Math.max(2, Math.round(2 * Math.sqrt(n)));
            KMeans.Result km = KMeans.fit(pool, KMeans.Settings.of(Math.min(k, n), s.iterations(), s.seed()));
            poolClusters = km.assignment();
            int[][] members = km.clustersByDistance();
            int[] queryCluster =
                    KMeans.assign(queries, km.centroids(), 128L << 20).assignment();
            for (int q = 0; q < queries.rows(); q++) {
                int c = queryCluster[q];
                int take = Math.min(s.perCluster(), members[c].length);
                for (int i = 0; i < take; i++) {
                    if (reasons.putIfAbsent(members[c][i], "cluster:" + c + ":" + queryKeys[q]) == null) {
                        perQuery[q]++;
                    }
                }
            }
        }
        return new Result(reasons, poolClusters, perQuery);
    }
}
