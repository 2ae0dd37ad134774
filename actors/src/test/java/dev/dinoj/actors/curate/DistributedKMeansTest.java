package dev.dinoj.actors.curate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.receptionist.Receptionist;
import dev.dinoj.pipeline.curate.HierarchicalKMeans;
import dev.dinoj.pipeline.curate.Partitions;
import dev.dinoj.pipeline.curate.ShardedHierarchicalKMeans;
import dev.dinoj.pipeline.curate.ShardedKMeans;
import dev.dinoj.pipeline.shards.ShardStore;
import dev.dinoj.pipeline.shards.SyntheticPool;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distributed k-means on three cluster nodes (three actor systems joined over Artery on loopback, so every
 * message crosses the Kryo serializer): 20 000 float16 embeddings in 6 partitions, 4 levels, one worker per node plus
 * a fourth that takes partitions and leaves without answering; the hierarchy equals the one the same passes give in
 * one JVM ({@link ShardedKMeans.Local}), bit for bit.
 */
@Timeout(300)
class DistributedKMeansTest {

    @Test
    void shouldEqualTheOneJvmResultWhenAWorkerLeavesMidPass(@TempDir Path dir) throws Exception {
        ShardStore store = ShardStore.local(dir);
        SyntheticPool.write(store, new SyntheticPool.Spec(20_000, 32, 60, 0.25, 6, 2000, 11), Partitions::embeddings);
        HierarchicalKMeans.Settings s = new HierarchicalKMeans.Settings(
                new int[] {100, 30, 10, 3}, 8, 2, null, HierarchicalKMeans.Strategy.CLOSEST, 3);
        HierarchicalKMeans.Hierarchy local =
                ShardedHierarchicalKMeans.fit(new ShardedKMeans.Local(store, 6, 1024), store, 6, s, null);

        try (CurationNodes nodes = CurationNodes.start(3, "")) {
            ActorTestKit first = nodes.first();
            TestProbe<CurationWorker.Command> leaving = first.createTestProbe();
            first.system().receptionist().tell(Receptionist.register(CurationWorker.KEY, leaving.ref()));

            TestProbe<KMeansDriver.Result> result = first.createTestProbe();
            first.spawn(KMeansDriver.create(dir.toString(), 6, s, 1024, 4, 2, result.ref()), "kmeans-driver");
            CurationWorker.AssignPass taken =
                    leaving.expectMessageClass(CurationWorker.AssignPass.class, Duration.ofSeconds(60));
            assertEquals(0, taken.pass());
            leaving.stop(); // leaves the receptionist listing without answering: its partitions go to the others

            KMeansDriver.Result r = result.expectMessageClass(KMeansDriver.Result.class, Duration.ofSeconds(240));
            assertNull(r.error());
            HierarchicalKMeans.Hierarchy h = r.hierarchy();
            assertEquals(4, h.depth());
            for (int l = 1; l <= 4; l++) {
                assertArrayEquals(
                        local.level(l).centroids().data(),
                        h.level(l).centroids().data(),
                        "level " + l);
                assertArrayEquals(local.level(l).assignment(), h.level(l).assignment(), "level " + l);
            }
            assertEquals(3, r.nodes().size(), "passes ran on the three nodes: " + r.nodes());
            long rows =
                    r.nodes().stream().mapToLong(KMeansDriver.NodeStats::rows).sum();
            assertEquals(20_000L * 9, rows, "9 passes over 20 000 rows, each row once per pass");
            assertTrue(r.nodes().stream().allMatch(n -> n.peakHeapBytes() > 0));
        }
    }
}
