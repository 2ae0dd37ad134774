package dev.dinoj.trainer.collective;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.trainer.collective.TestWorlds.Transport;
import dev.dinoj.trainer.collective.transport.ChunkHeader;
import dev.dinoj.trainer.collective.transport.Wire;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Ranks as threads in one JVM, over a shared driver (IPC) and over a driver per rank (UDP on loopback). */
class CommunicatorTest {

    static final CollectiveSettings SETTINGS = CollectiveSettings.defaults()
            .withTimeout(Duration.ofSeconds(20))
            .withConnectTimeout(Duration.ofSeconds(20))
            .withTermLengths(1 << 20, 1 << 19);

    static ByteBuffer vector(int count) {
        return ByteBuffer.allocateDirect(count * 4).order(ByteOrder.nativeOrder());
    }

    /** A value rank r holds at element i: distinct per rank and element, exactly summable in float32. */
    static float value(int rank, int i) {
        return (rank + 1) * 1000f + (i % 977);
    }

    static float[] read(ByteBuffer v, int count) {
        float[] out = new float[count];
        v.asFloatBuffer().get(0, out, 0, count);
        return out;
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    @Timeout(120)
    void shouldReduceScatterAllGatherAllReduceAndBroadcastExactly(Transport transport) throws Exception {
        int n = 3;
        int big = 100_003; // several chunks per block, uneven blocks
        Partition uneven = Partition.of(0, 0, 17, 70_017); // an empty block, a tiny one, a big one
        try (TestWorlds w = new TestWorlds(n, transport, SETTINGS, 0, true)) {
            List<float[][]> results = w.run(c -> {
                int r = c.rank();
                float[][] out = new float[6][];
                // ring all-reduce
                ByteBuffer v = vector(big);
                for (int i = 0; i < big; i++) {
                    v.putFloat(i * 4, value(r, i));
                }
                c.allReduce(v, big);
                out[0] = read(v, big);
                // small all-reduce (all-to-all path)
                ByteBuffer s = vector(5);
                for (int i = 0; i < 5; i++) {
                    s.putFloat(i * 4, value(r, i));
                }
                c.allReduce(s, 5);
                out[1] = read(s, 5);
                // reduce-scatter over an uneven partition
                ByteBuffer rs = vector(uneven.total());
                for (int i = 0; i < uneven.total(); i++) {
                    rs.putFloat(i * 4, value(r, i));
                }
                c.reduceScatter(rs, uneven, WireFormat.F32);
                float[] all = read(rs, uneven.total());
                float[] mine = new float[uneven.length(r)];
                System.arraycopy(all, uneven.offset(r), mine, 0, mine.length);
                out[2] = mine;
                // all-gather: each rank contributes its block
                ByteBuffer ag = vector(uneven.total());
                for (int i = uneven.offset(r); i < uneven.end(r); i++) {
                    ag.putFloat(i * 4, value(r, i));
                }
                c.allGather(ag, uneven, WireFormat.F32);
                out[3] = read(ag, uneven.total());
                // broadcast from rank 2
                ByteBuffer b = vector(big);
                if (r == 2) {
                    for (int i = 0; i < big; i++) {
                        b.putFloat(i * 4, value(7, i));
                    }
                }
                c.broadcast(b, big, 2);
                out[4] = read(b, big);
                // small double all-reduce, barrier
                double[] d = {r, -r, 0.1 * (r + 1)};
                c.allReduce(d, ReduceOp.MAX);
                out[5] = new float[] {(float) d[0], (float) d[1], (float) d[2]};
                c.barrier();
                assertEquals(0, c.stats().lateChunks());
                return out;
            });
            for (int r = 0; r < n; r++) {
                float[][] o = results.get(r);
                for (int i = 0; i < big; i++) {
                    float want = value(0, i) + value(1, i) + value(2, i);
                    if (o[0][i] != want) {
                        throw new AssertionError(
                                "rank " + r + " all-reduce element " + i + ": " + o[0][i] + " != " + want);
                    }
                    if (o[4][i] != value(7, i)) {
                        throw new AssertionError("rank " + r + " broadcast element " + i);
                    }
                }
                for (int i = 0; i < 5; i++) {
                    assertEquals(value(0, i) + value(1, i) + value(2, i), o[1][i]);
                }
                for (int k = 0; k < uneven.length(r); k++) {
                    int i = uneven.offset(r) + k;
                    assertEquals(
                            value(0, i) + value(1, i) + value(2, i),
                            o[2][k],
                            "reduce-scatter rank " + r + " element " + i);
                }
                for (int b = 0; b < n; b++) {
                    for (int i = uneven.offset(b); i < uneven.end(b); i++) {
                        assertEquals(value(b, i), o[3][i], "all-gather rank " + r + " element " + i);
                    }
                }
                assertArrayEquals(new float[] {2f, 0f, 0.3f}, o[5]);
            }
        }
    }

    @Test
    @Timeout(60)
    void shouldAllReduceInBf16WithinRoundingAndIdenticallyOnEveryRank() throws Exception {
        int n = 2;
        int count = 50_000;
        try (TestWorlds w = new TestWorlds(n, Transport.IPC, SETTINGS, 0, true)) {
            List<float[]> results = w.run(c -> {
                SplittableRandom rnd = new SplittableRandom(c.rank());
                ByteBuffer v = vector(count);
                for (int i = 0; i < count; i++) {
                    v.putFloat(i * 4, (float) rnd.nextGaussian());
                }
                c.allReduce(v, count, WireFormat.BF16);
                return read(v, count);
            });
            assertArrayEquals(results.get(0), results.get(1), "every rank holds the same values");
            SplittableRandom a = new SplittableRandom(0);
            SplittableRandom b = new SplittableRandom(1);
            for (int i = 0; i < count; i++) {
                float x = (float) a.nextGaussian();
                float y = (float) b.nextGaussian();
                double exact = (double) x + y;
                double tol =
                        (Math.abs(x) + Math.abs(y) + Math.abs(exact)) / 256 + 1e-6; // bf16 roundings (8-bit mantissa)
                assertTrue(
                        Math.abs(results.get(0)[i] - exact) <= tol,
                        "element " + i + ": " + results.get(0)[i] + " vs " + exact);
            }
        }
    }

    /**
     * The bf16 wire paths (NIO views of the log buffers) bit for bit against the algorithm's model: with 2 ranks,
     * element i of block b (owned by rank b) ends as {@code bf16(x_b[i] + bf16(x_{1-b}[i]))} on both ranks (the
     * sender rounds, the owner adds in float32 and rounds its sum for the all-gather). Ties to even, values that
     * round up to infinity and infinities included.
     */
    @ParameterizedTest
    @EnumSource(Transport.class)
    @Timeout(60)
    void shouldAllReduceInBf16ExactlyAsTheRoundingModelSays(Transport transport) throws Exception {
        int n = 2;
        int count = 100_003;
        int[][] bits = new int[n][count];
        for (int r = 0; r < n; r++) {
            SplittableRandom rnd = new SplittableRandom(11 + r);
            for (int i = 0; i < count; i++) {
                bits[r][i] = Float.floatToRawIntBits((float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(-6, 7))));
            }
            bits[r][5] = 0x3F808000; // exactly halfway: ties to even (down)
            bits[r][6] = 0x3F818000; // halfway, odd: up
            bits[r][7] = 0x7F7FFFFF; // largest float: rounds to +inf
            bits[r][8] = r == 0 ? 0xFF800000 : 0x3F800000; // -inf + 1
        }
        try (TestWorlds w = new TestWorlds(n, transport, SETTINGS, 0, true)) {
            List<float[]> results = w.run(c -> {
                ByteBuffer v = vector(count);
                for (int i = 0; i < count; i++) {
                    v.putInt(i * 4, bits[c.rank()][i]);
                }
                c.allReduce(v, count, WireFormat.BF16);
                return read(v, count);
            });
            Partition p = Partition.even(count, n);
            for (int b = 0; b < n; b++) {
                for (int i = p.offset(b); i < p.end(b); i++) {
                    float other = Wire.fromBf16(Wire.toBf16(bits[1 - b][i]));
                    float sum = Float.intBitsToFloat(bits[b][i]) + other;
                    int want = Wire.toBf16(Float.floatToRawIntBits(sum)) << 16;
                    for (int r = 0; r < n; r++) {
                        assertEquals(want, Float.floatToRawIntBits(results.get(r)[i]), "rank " + r + " element " + i);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    @Timeout(120)
    void shouldKeepManyBackToBackCollectivesApartWhenRanksRunAtDifferentSpeeds(Transport transport) throws Exception {
        int n = 3;
        try (TestWorlds w = new TestWorlds(n, transport, SETTINGS, 0, true)) {
            List<Integer> ok = w.run(c -> {
                SplittableRandom rnd = new SplittableRandom(42 + c.rank());
                ByteBuffer v = vector(20_000);
                for (int it = 0; it < 40; it++) {
                    c.setStep(it);
                    if (rnd.nextInt(4) == 0) {
                        Thread.sleep(rnd.nextInt(5)); // a slow rank: the others' chunks must wait in the log
                    }
                    int count = it % 2 == 0 ? 20_000 : 7;
                    for (int i = 0; i < count; i++) {
                        v.putFloat(i * 4, it + c.rank());
                    }
                    c.allReduce(v, count);
                    float want = n * it + 3; // 0 + 1 + 2
                    for (int i = 0; i < count; i += 97) {
                        if (v.getFloat(i * 4) != want) {
                            throw new AssertionError("iteration " + it + " element " + i + ": " + v.getFloat(i * 4));
                        }
                    }
                    double[] d = {it};
                    c.allReduce(d, ReduceOp.SUM);
                    assertEquals(n * it, d[0]);
                }
                return c.stats().collectives();
            });
            assertEquals(List.of(80, 80, 80), ok);
        }
    }

    @Test
    @Timeout(60)
    void shouldCountChunksAndBytesInAgronaCountersBehindTheStats() throws Exception {
        int n = 3;
        int count = 100_003;
        try (TestWorlds w = new TestWorlds(n, Transport.IPC, SETTINGS, 0, true)) {
            List<long[]> out = w.run(c -> {
                c.allReduce(vector(count), count);
                c.barrier();
                var counters = c.counters();
                Communicator.Stats s = c.stats();
                assertEquals(counters.chunksSent().get(), s.chunksSent());
                assertEquals(counters.chunksReceived().get(), s.chunksReceived());
                assertEquals(0, s.lateChunks());
                assertEquals(0, s.foreignChunks());
                assertEquals(2, s.collectives());
                assertTrue(
                        counters.toString().contains("dinoj bytes sent: rank=" + c.rank() + " gen=0 = "),
                        counters.toString());
                return new long[] {
                    s.chunksSent(),
                    s.chunksReceived(),
                    counters.bytesSent().get(),
                    counters.bytesReceived().get()
                };
            });
            long[] total = new long[4];
            for (long[] o : out) {
                for (int i = 0; i < 4; i++) {
                    total[i] += o[i];
                }
            }
            assertEquals(total[0], total[1], "every chunk sent is received once");
            assertEquals(total[2], total[3]);
            // the ring: every element travels 2(n − 1) times; the barrier: one empty chunk to every peer
            assertEquals(2L * (n - 1) * count * 4 + total[0] * ChunkHeader.LENGTH, total[2]);
            assertTrue(total[0] >= 2L * (n - 1) * n + n * (n - 1), "chunks: " + total[0]);
        }
    }

    @Test
    @Timeout(60)
    void shouldFailWithATypedErrorWhenRanksDisagreeOnTheStep() throws Exception {
        try (TestWorlds w = new TestWorlds(2, Transport.IPC, SETTINGS.withTimeout(Duration.ofSeconds(3)), 0, true)) {
            List<Object> out = w.runCollectingFailures(c -> {
                c.setStep(c.rank() == 0 ? 5 : 6);
                c.allReduce(vector(100_000), 100_000);
                return "completed";
            });
            for (Object o : out) {
                CollectiveException e = assertInstanceOf(CollectiveException.class, o);
                assertTrue(e.getMessage().contains("step"), e.getMessage());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Transport.class)
    @Timeout(60)
    void shouldThrowATypedTimeoutWithinTheTimeoutWhenAPeerStopsAnswering(Transport transport) throws Exception {
        Duration timeout = Duration.ofMillis(800);
        try (TestWorlds w = new TestWorlds(3, transport, SETTINGS.withTimeout(timeout), 0, true)) {
            List<Object> out = w.runCollectingFailures(c -> {
                ByteBuffer v = vector(300_000);
                c.allReduce(v, 300_000); // all three take part once
                if (c.rank() == 1) {
                    Thread.sleep(4 * timeout.toMillis()); // then rank 1 stops answering
                    return "silent";
                }
                long t0 = System.nanoTime();
                CollectiveTimeoutException e =
                        assertThrows(CollectiveTimeoutException.class, () -> c.allReduce(v, 300_000));
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms < timeout.toMillis() + 1500, "failed after " + ms + " ms");
                assertTrue(!e.waitingFor().isEmpty(), e.getMessage());
                // a failed communicator refuses further work
                CollectiveException again = assertThrows(CollectiveException.class, c::barrier);
                assertTrue(again.getMessage().contains("failed earlier"), again.getMessage());
                return e.waitingFor();
            });
            assertEquals("silent", out.get(1));
            assertTrue(
                    out.get(0).toString().contains("1") || out.get(2).toString().contains("1"),
                    "someone names rank 1: " + out);
        }
    }

    @Test
    void shouldRoundFloatsToBf16ToNearestEven() {
        assertEquals(1.0f, Wire.fromBf16(Wire.toBf16(Float.floatToIntBits(1.0f))));
        assertEquals(1.0f, Wire.fromBf16(Wire.toBf16(Float.floatToIntBits(1.00390625f)))); // tie → even (down)
        assertEquals(1.015625f, Wire.fromBf16(Wire.toBf16(Float.floatToIntBits(1.01171875f)))); // tie → even (up)
        assertTrue(Float.isNaN(Wire.fromBf16(Wire.toBf16(Float.floatToIntBits(Float.NaN)))));
        assertEquals(
                Float.POSITIVE_INFINITY, Wire.fromBf16(Wire.toBf16(Float.floatToIntBits(Float.POSITIVE_INFINITY))));
        UnsafeBuffer u = new UnsafeBuffer(vector(1));
        u.putFloat(0, 3.14159f);
        Wire.roundToBf16(u, 0, 1);
        assertEquals(3.140625f, u.getFloat(0));
    }

    @Test
    void shouldSplitEvenPartitionsAndParseWorlds() {
        Partition p = Partition.even(10, 3);
        assertArrayEquals(new int[] {0, 4, 7, 10}, p.offsets());
        assertEquals(0, Partition.even(2, 3).length(2));
        World w = World.parse("10.0.0.1:4000@/dev/shm/a,10.0.0.1:4001@/dev/shm/a,10.0.0.2:4000", 3, 42L);
        assertEquals(3, w.size());
        assertTrue(w.sharesDriver(0, 1));
        assertTrue(!w.sharesDriver(1, 2));
        assertEquals(w.spec(), World.parse(w.spec(), 3, 42L).spec());
        assertEquals(42L, w.secret());
        assertThrows(
                IllegalArgumentException.class,
                () -> CollectiveSettings.defaults().withMtu(65536));
        assertThrows(
                IllegalArgumentException.class,
                () -> CollectiveSettings.defaults().withTermLengths(256 * 1024, 1 << 20));
        assertEquals(
                CollectiveSettings.defaults(),
                CollectiveSettings.decode(CollectiveSettings.defaults().encode()));
    }
}
