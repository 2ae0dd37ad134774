package dev.dinoj.trainer.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.trainer.collective.TestWorlds.Transport;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import org.agrona.concurrent.AgentRunner;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The overlap thread as an Agrona agent: buckets reduce-scattered on the agent's thread give bitwise the shards of one
 * reduce-scatter of the whole vector, step after step; a failure reaches the waiting thread as a typed error; closing
 * the runner stops the thread.
 */
class ReduceScatterAgentTest {

    /** Bucket [a, b) of a vector and the rank shards clipped to it, as OverlappedReduceScatter makes them. */
    static Partition clip(Partition shards, int a, int b) {
        int[] o = new int[shards.blocks() + 1];
        for (int r = 0; r < shards.blocks(); r++) {
            o[r + 1] = Math.max(o[r], Math.max(0, Math.min(b, shards.end(r)) - a));
        }
        return Partition.of(o);
    }

    @Test
    @Timeout(120)
    void shouldReduceScatterLaunchedBucketsBitwiseAsOneReduceScatterStepAfterStep() throws Exception {
        int n = 3;
        int count = 30_011;
        int[] cuts = {count, 20_000, 7_001, 0}; // launch order: the end of the vector first
        try (TestWorlds w = new TestWorlds(n, Transport.IPC, CommunicatorTest.SETTINGS, 0, true)) {
            List<Boolean> ok = w.run(c -> {
                Partition shards = Partition.even(count, n);
                ByteBuffer grads = CommunicatorTest.vector(count);
                ByteBuffer reference = CommunicatorTest.vector(count);
                ByteBuffer[] buckets = new ByteBuffer[cuts.length - 1];
                Partition[] partitions = new Partition[buckets.length];
                for (int j = 0; j < buckets.length; j++) {
                    int a = cuts[j + 1];
                    int b = cuts[j];
                    buckets[j] = grads.slice(a * 4, (b - a) * 4).order(grads.order());
                    partitions[j] = clip(shards, a, b);
                }
                ReduceScatterAgent agent = new ReduceScatterAgent(c, buckets, partitions, WireFormat.F32);
                AgentRunner runner = ReduceScatterAgent.newRunner(agent);
                Thread thread;
                try {
                    for (int step = 0; step < 3; step++) {
                        for (int i = 0; i < count; i++) {
                            float x = (float) Math.sin(i * 0.37 + c.rank() * 1.1 + step) * (1 + i % 7);
                            grads.putFloat(i * 4, x);
                            reference.putFloat(i * 4, x);
                        }
                        for (int j = 0; j < buckets.length; j++) {
                            agent.launch();
                        }
                        agent.awaitCompleted((step + 1L) * buckets.length);
                        c.reduceScatter(reference, shards, WireFormat.F32); // the step thread's turn again
                        for (int i = shards.offset(c.rank()); i < shards.end(c.rank()); i++) {
                            assertEquals(
                                    Float.floatToRawIntBits(reference.getFloat(i * 4)),
                                    Float.floatToRawIntBits(grads.getFloat(i * 4)),
                                    "step " + step + " element " + i);
                        }
                    }
                    assertEquals(9, agent.launched());
                    assertTrue(agent.busyNanos() > 0);
                    thread = runner.thread();
                    assertEquals("dinoj-comm-rank" + c.rank(), thread.getName());
                    assertTrue(thread.isDaemon());
                    assertTrue(thread.isAlive());
                } finally {
                    runner.close();
                }
                assertTrue(runner.isClosed());
                assertFalse(thread.isAlive());
                return true;
            });
            assertEquals(List.of(true, true, true), ok);
        }
    }

    @Test
    @Timeout(60)
    void shouldRethrowAFailureOfTheAgentOnTheWaitingThread() throws Exception {
        CollectiveSettings settings = CommunicatorTest.SETTINGS.withTimeout(Duration.ofMillis(500));
        try (TestWorlds w = new TestWorlds(2, Transport.IPC, settings, 0, true)) {
            List<Object> out = w.runCollectingFailures(c -> {
                if (c.rank() == 1) {
                    Thread.sleep(2_000); // never takes part
                    return "silent";
                }
                ByteBuffer v = CommunicatorTest.vector(1_000);
                ReduceScatterAgent agent = new ReduceScatterAgent(
                        c, new ByteBuffer[] {v}, new Partition[] {Partition.even(1_000, 2)}, WireFormat.F32);
                AgentRunner runner = ReduceScatterAgent.newRunner(agent);
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (runner.thread() == null && System.nanoTime() < deadline) {
                    Thread.sleep(1); // the runner names its thread when it starts
                }
                Thread thread = runner.thread();
                try {
                    agent.launch();
                    CollectiveException e = assertThrows(CollectiveException.class, () -> agent.awaitCompleted(1));
                    assertInstanceOf(CollectiveTimeoutException.class, e.getCause(), e.toString());
                    assertTrue(e.getMessage().contains("no progress"), e.getMessage());
                    assertEquals(0, agent.completed());
                } finally {
                    runner.close();
                }
                thread.join(5_000);
                assertFalse(thread.isAlive(), "a failed agent stops its thread");
                return "failed as expected";
            });
            assertEquals(List.of("failed as expected", "silent"), out);
        }
    }
}
