package dev.dinoj.deploy.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Local cluster nodes share the machine's cores unless the user sets PyTorch's threads. */
class LocalClusterThreadsTest {

    @Test
    void shouldSplitTheCoresBetweenTheNodesUnlessTheUserSetsThreads() {
        assertEquals(
                List.of("-Dai.djl.pytorch.num_threads=4", "-Dai.djl.pytorch.num_interop_threads=1"),
                LocalCluster.withThreads(List.of(), 4, 16));
        assertEquals(
                List.of("-Dx=1", "-Dai.djl.pytorch.num_threads=1", "-Dai.djl.pytorch.num_interop_threads=1"),
                LocalCluster.withThreads(List.of("-Dx=1"), 3, 2),
                "at least one thread per node");
        assertEquals(
                List.of("-Dai.djl.pytorch.num_threads=8"),
                LocalCluster.withThreads(List.of("-Dai.djl.pytorch.num_threads=8"), 4, 16),
                "the user's choice stands");
        assertEquals(
                List.of("-Dai.djl.pytorch.num_interop_threads=2", "-Dai.djl.pytorch.num_threads=2"),
                LocalCluster.withThreads(List.of("-Dai.djl.pytorch.num_interop_threads=2"), 2, 4));
    }
}
