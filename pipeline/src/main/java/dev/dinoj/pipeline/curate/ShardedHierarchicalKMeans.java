package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.search.KMeans;
import dev.dinoj.pipeline.shards.EmbeddingShards;
import dev.dinoj.pipeline.shards.ShardStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;

/**
 * {@link HierarchicalKMeans} over a sharded pool: level 1 (the points) is {@link ShardedKMeans} — streamed passes,
 * the update a reduce of per-partition sums — and writes each partition's assignment beside it; levels 2 and up
 * cluster the centroids of the level below (tens of thousands of rows at most, one heap) with the resampling steps of
 * {@link HierarchicalKMeans#fit}. As in ssl-data-curation's 4-level configuration, level 1 runs without resampling
 * steps (they would need half the pool in memory); {@code resamples} applies to the levels above.
 */
public final class ShardedHierarchicalKMeans {
    private ShardedHierarchicalKMeans() {}

    /**
     * Clusters the {@code partitions} partitions of {@code store} through {@code backend} (their passes), then reads
     * the level-1 assignments the last pass wrote.
     */
    public static HierarchicalKMeans.Hierarchy fit(
            ShardedKMeans.Backend backend,
            ShardStore store,
            int partitions,
            HierarchicalKMeans.Settings s,
            Consumer<String> progress)
            throws IOException {
        return fit(backend, store, partitions, null, s, progress);
    }

    /**
     * As {@link #fit(ShardedKMeans.Backend, ShardStore, int, HierarchicalKMeans.Settings, Consumer)} over the rows of
     * the partitions' selection {@code selection} (null = every row), the one {@code backend}'s passes read: the
     * hierarchy's points are the selected rows, partition after partition.
     */
    public static HierarchicalKMeans.Hierarchy fit(
            ShardedKMeans.Backend backend,
            ShardStore store,
            int partitions,
            String selection,
            HierarchicalKMeans.Settings s,
            Consumer<String> progress)
            throws IOException {
        long n = backend.rows();
        ShardedKMeans.Result l1 = ShardedKMeans.fit(
                backend,
                new ShardedKMeans.Settings(s.clusters()[0], s.iterations(), s.seed() * 1_000_003L, 16),
                progress);
        if (progress != null) {
            progress.accept(String.format(
                    java.util.Locale.ROOT,
                    "level 1: %d points into %d clusters (inertia %.6g)",
                    n,
                    l1.centroids().rows(),
                    l1.inertia()));
        }
        int[] assignment = new int[(int) n];
        float[] distance = new float[(int) n];
        List<EmbeddingShards.Reader> parts = ShardedKMeans.open(store, partitions, selection);
        int at = 0;
        for (int p = 0; p < partitions; p++) {
            PartitionAssignments a = PartitionAssignments.read(
                    store, Partitions.assignments(p), parts.get(p).rows());
            System.arraycopy(a.cluster(), 0, assignment, at, a.cluster().length);
            System.arraycopy(a.distance(), 0, distance, at, a.distance().length);
            at += a.cluster().length;
        }
        List<HierarchicalKMeans.Level> levels = new ArrayList<>();
        int k1 = l1.centroids().rows();
        levels.add(new HierarchicalKMeans.Level(l1.centroids(), assignment, KMeans.clusters(assignment, distance, k1)));
        if (s.clusters().length > 1) {
            int[] upper = Arrays.copyOfRange(s.clusters(), 1, s.clusters().length);
            int[] sizes =
                    s.sampleSizes() == null ? null : Arrays.copyOfRange(s.sampleSizes(), 1, s.sampleSizes().length);
            HierarchicalKMeans.Hierarchy top = HierarchicalKMeans.fit(
                    l1.centroids(),
                    new HierarchicalKMeans.Settings(
                            upper, s.iterations(), s.resamples(), sizes, s.strategy(), s.seed() + 1),
                    progress == null ? null : line -> progress.accept("above level 1: " + line));
            levels.addAll(top.levels());
        }
        return new HierarchicalKMeans.Hierarchy((int) n, levels);
    }
}
