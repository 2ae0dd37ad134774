package dev.dinoj.pipeline.curate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.pipeline.search.KMeans;
import dev.dinoj.pipeline.shards.EmbeddingShards;
import dev.dinoj.pipeline.shards.ShardStore;
import dev.dinoj.pipeline.shards.SyntheticPool;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sharded k-means against the in-heap one on the same (float16-rounded) pool: level-1 inertia within 1 %, the
 * hierarchy consistent, and every row's written assignment its nearest centroid.
 */
class ShardedKMeansTest {

    @Test
    void shouldMatchTheInHeapHierarchicalKMeansWithinOnePercentOfInertia(@TempDir Path dir) throws Exception {
        ShardStore store = ShardStore.local(dir);
        SyntheticPool.Spec spec = new SyntheticPool.Spec(20_000, 32, 60, 0.25, 3, 3000, 7);
        assertEquals(20_000, SyntheticPool.write(store, spec, Partitions::embeddings));
        List<EmbeddingShards.Reader> parts = ShardedKMeans.open(store, 3);
        FloatMatrix all = ShardedKMeans.sample(
                parts, java.util.stream.LongStream.range(0, 20_000).toArray());
        assertEquals(spec.start(1), parts.get(0).rows());

        HierarchicalKMeans.Settings s = new HierarchicalKMeans.Settings(
                new int[] {100, 30, 10, 3}, 10, 2, null, HierarchicalKMeans.Strategy.CLOSEST, 5);
        HierarchicalKMeans.Hierarchy sharded =
                ShardedHierarchicalKMeans.fit(new ShardedKMeans.Local(store, 3, 1024), store, 3, s, null);
        KMeans.Result heap = KMeans.fit(all, KMeans.Settings.of(100, 10, 5));

        assertEquals(4, sharded.depth());
        assertEquals(20_000, sharded.points());
        double shardedInertia = 0;
        FloatMatrix c = sharded.level(1).centroids();
        KMeans.Assignment check = KMeans.assign(all, c, 64L << 20);
        for (float d : check.distances()) {
            shardedInertia += d;
        }
        assertArrayEquals(check.assignment(), sharded.level(1).assignment(), "the written assignment is the nearest");
        double rel = Math.abs(shardedInertia - heap.inertia()) / heap.inertia();
        assertTrue(rel < 0.01, "sharded " + shardedInertia + " vs in-heap " + heap.inertia());
        assertEquals(20_000, Arrays.stream(sharded.flatSizes(4)).sum());
        assertEquals(3, sharded.level(4).centroids().rows());
        int p = 12_345;
        int[] path = sharded.path(p);
        assertEquals(sharded.level(1).assignment()[p], path[3]);

        // the hierarchy feeds the balanced sampler as the in-heap one does
        int[] picked = BalancedSampler.sample(sharded, 500, BalancedSampler.Pick.CLOSEST, 1);
        assertEquals(500, picked.length);
    }

    /**
     * A k-means restricted to a row selection of every partition equals the k-means of a pool that holds only the
     * selected rows (the same halves, the same order), and its written assignments cover the selected rows only.
     */
    @Test
    void shouldClusterOnlyTheSelectedRows(@TempDir Path dir) throws Exception {
        ShardStore store = ShardStore.local(dir.resolve("pool"));
        ShardStore compact = ShardStore.local(dir.resolve("compact"));
        SyntheticPool.write(store, new SyntheticPool.Spec(9_000, 16, 30, 0.25, 3, 1000, 13), Partitions::embeddings);
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(4);
        long selected = 0;
        for (int p = 0; p < 3; p++) {
            EmbeddingShards.Reader r = ShardedKMeans.openPartition(store, p, null);
            int[] rows = java.util.stream.IntStream.range(0, (int) r.rows())
                    .filter(i -> rnd.nextInt(3) != 0)
                    .toArray();
            new dev.dinoj.pipeline.shards.RowSelection(r.rows(), rows).write(store, Partitions.selection(p, "kept"));
            try (EmbeddingShards.Writer w = new EmbeddingShards.Writer(compact, Partitions.embeddings(p), 16, 1000)) {
                w.add(r.rows(java.util.Arrays.stream(rows).asLongStream().toArray()));
            }
            selected += rows.length;
        }
        HierarchicalKMeans.Settings s =
                new HierarchicalKMeans.Settings(new int[] {40, 8}, 6, 1, null, HierarchicalKMeans.Strategy.CLOSEST, 2);
        HierarchicalKMeans.Hierarchy onSelection = ShardedHierarchicalKMeans.fit(
                new ShardedKMeans.Local(store, 3, 1 << 16, "kept"), store, 3, "kept", s, null);
        HierarchicalKMeans.Hierarchy onCompact =
                ShardedHierarchicalKMeans.fit(new ShardedKMeans.Local(compact, 3, 1 << 16), compact, 3, s, null);
        assertEquals(selected, onSelection.points());
        for (int l = 1; l <= 2; l++) {
            assertArrayEquals(
                    onCompact.level(l).centroids().data(),
                    onSelection.level(l).centroids().data(),
                    "level " + l);
            assertArrayEquals(
                    onCompact.level(l).assignment(), onSelection.level(l).assignment(), "level " + l);
        }
        HierarchicalKMeans.Hierarchy all =
                ShardedHierarchicalKMeans.fit(new ShardedKMeans.Local(store, 3, 1 << 16), store, 3, s, null);
        assertEquals(9_000, all.points());
    }
}
