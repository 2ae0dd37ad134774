package dev.dinoj.pipeline.curate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.pipeline.ingest.ManifestEntry;
import dev.dinoj.pipeline.ingest.ObjectState;
import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.pipeline.search.KMeans;
import dev.dinoj.pipeline.shards.EmbeddingShards;
import dev.dinoj.pipeline.shards.EmbeddingSpill;
import dev.dinoj.pipeline.shards.ShardStore;
import dev.dinoj.pipeline.shards.SyntheticPool;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The selection stages on the partitions' shards against the in-heap ones on the same float16 rows: the streamed
 * sample-based retrieval finds what {@link Retrieval} finds (same images, same reasons, same order), and the sharded
 * hierarchy's points are the pool rows asked for (each assigned to its nearest level-1 centroid).
 */
class ShardedSelectionTest {

    @Test
    void shouldRetrieveAsTheInHeapRetrievalAndClusterTheRowsAskedFor(@TempDir Path dir) throws Exception {
        ShardStore store = ShardStore.local(dir);
        SyntheticPool.write(store, new SyntheticPool.Spec(6_000, 16, 40, 0.3, 3, 700, 5), Partitions::embeddings);
        List<ManifestEntry> entries = new ArrayList<>();
        List<float[]> vectors = new ArrayList<>();
        for (int p = 0; p < 3; p++) {
            EmbeddingShards.Reader r = EmbeddingShards.Reader.open(store, Partitions.embeddings(p));
            FloatMatrix all = r.readAll();
            StringBuilder keys = new StringBuilder();
            for (int i = 0; i < r.rows(); i++) {
                String key = String.format("img-%d-%05d", (i * 7919 + p) % 97, i * 3 + p); // not in row order
                keys.append(key).append('\n');
                entries.add(ManifestEntry.of(key, "e", 1, ObjectState.INGESTED, null)
                        .withSha("sha-" + key));
                vectors.add(all.row(i));
            }
            store.write(
                    Partitions.embeddings(p) + "/" + EmbeddingSpill.KEYS,
                    ByteBuffer.wrap(keys.toString().getBytes(StandardCharsets.UTF_8)));
        }
        // the pool as Curation builds it: sorted by key
        Integer[] byKey = IntStream.range(0, entries.size()).boxed().toArray(Integer[]::new);
        java.util.Arrays.sort(byKey, Comparator.comparing(i -> entries.get(i).key()));
        List<ManifestEntry> pool = new ArrayList<>();
        List<float[]> poolRows = new ArrayList<>();
        for (int i : byKey) {
            pool.add(entries.get(i));
            poolRows.add(vectors.get(i));
        }
        FloatMatrix x = FloatMatrix.ofRows(poolRows, 16);
        SplittableRandom rnd = new SplittableRandom(9);
        int[] rows =
                IntStream.range(0, pool.size()).filter(i -> rnd.nextInt(4) != 0).toArray();
        FloatMatrix queries = x.select(new int[] {3, 500, 1700, 4000, 5999});
        String[] queryKeys = {"q0", "q1", "q2", "q3", "q4"};

        SelectionVectors sharded = new ShardedSelection(
                        store, 3, entries, ShardedSelection.Backends.local(store, 3, 512), 0, 300)
                .of(pool);
        SelectionVectors heap = SelectionVectors.inHeap(x);
        Retrieval.Settings nearest = new Retrieval.Settings(25, 0, 0, 5, 0, 8, 3);
        Retrieval.Result a = heap.retrieve(rows, queries, queryKeys, nearest);
        Retrieval.Result b = sharded.retrieve(rows, queries, queryKeys, nearest);
        assertEquals(
                new ArrayList<>(a.reasons().entrySet()),
                new ArrayList<>(b.reasons().entrySet()));
        assertArrayEquals(a.perQueryCount(), b.perQueryCount());

        Retrieval.Result c = sharded.retrieve(rows, queries, queryKeys, new Retrieval.Settings(0, 30, 20, 5, 0, 8, 3));
        assertEquals(rows.length, c.poolClusters().length);
        assertTrue(
                c.reasons().size() >= 30,
                "each query's cluster gives up to 30 images: " + c.reasons().size());

        HierarchicalKMeans.Hierarchy h = sharded.cluster(
                rows,
                new HierarchicalKMeans.Settings(new int[] {30, 5}, 5, 2, null, HierarchicalKMeans.Strategy.CLOSEST, 1),
                null);
        assertEquals(rows.length, h.points());
        KMeans.Assignment nearestCentroid =
                KMeans.assign(x.select(rows), h.level(1).centroids(), 64L << 20);
        assertArrayEquals(nearestCentroid.assignment(), h.level(1).assignment(), "point i is pool row rows[i]");
        for (int[] members : h.level(1).clusters()) {
            for (int m : members) {
                assertEquals(nearestCentroid.assignment()[m], h.level(1).assignment()[m]);
            }
        }
    }
}
