package dev.dinoj.actors.curate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.receptionist.Receptionist;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.pipeline.curate.HierarchicalKMeans;
import dev.dinoj.pipeline.curate.Partitions;
import dev.dinoj.pipeline.curate.ShardedHierarchicalKMeans;
import dev.dinoj.pipeline.curate.ShardedKMeans;
import dev.dinoj.pipeline.shards.ShardStore;
import dev.dinoj.pipeline.shards.SyntheticPool;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
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

        List<ActorTestKit> kits = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                kits.add(ActorTestKit.create(
                        "dinoj",
                        ConfigFactory.parseString("akka.remote.artery.canonical.port = 0\n"
                                        + "akka.cluster.jmx.multi-mbeans-in-same-jvm = on\n")
                                .withFallback(ConfigFactory.load())));
            }
            akka.actor.Address seed =
                    Cluster.get(kits.get(0).system()).selfMember().address();
            for (ActorTestKit k : kits) {
                Cluster.get(k.system()).manager().tell(Join.create(seed));
                k.spawn(CurationWorker.create(), "curation-worker");
            }
            TestProbe<CurationWorker.Command> leaving = kits.get(0).createTestProbe();
            kits.get(0).system().receptionist().tell(Receptionist.register(CurationWorker.KEY, leaving.ref()));

            TestProbe<KMeansDriver.Result> result = kits.get(0).createTestProbe();
            kits.get(0).spawn(KMeansDriver.create(dir.toString(), 6, s, 1024, 4, 2, result.ref()), "kmeans-driver");
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
        } finally {
            for (ActorTestKit k : kits) {
                k.shutdownTestKit();
            }
        }
    }
}
