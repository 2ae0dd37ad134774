package dev.dinoj.trainer.collective.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aeron.ExclusivePublication;
import io.aeron.logbuffer.ControlledFragmentHandler.Action;
import java.nio.ByteBuffer;
import java.util.SplittableRandom;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The all-to-all state machine over a real media driver ({@code aeron:ipc}), 2–4 ranks driven round-robin from one
 * thread: every rank's rank-order reduction bit for bit, counters, a stale chunk from outside the world dropped and
 * counted on the way, and the screening of its fragment handler.
 */
class AllToAllCollectiveTest {
    private static final long SECRET = IpcRanks.SECRET;

    private static AllToAllCollective[] rounds(
            final IpcRanks ranks, final int generation, final CollectiveCounters[] counters) {
        final int n = ranks.size;
        final AllToAllCollective[] rounds = new AllToAllCollective[n];
        for (int r = 0; r < n; r++) {
            counters[r] = new CollectiveCounters(r, generation);
            rounds[r] = new AllToAllCollective(
                    r, n, generation, SECRET, counters[r], ranks.publications[r], ranks.inboxes[r]);
        }
        return rounds;
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4})
    @Timeout(60)
    void shouldReduceEveryRanksVectorInRankOrderBitwiseAndCountEveryChunk(final int n) {
        final int count = 1_500; // 3 chunks per peer at mtu 4096
        try (IpcRanks ranks = new IpcRanks(n)) {
            final CollectiveCounters[] counters = new CollectiveCounters[n];
            final AllToAllCollective[] rounds = rounds(ranks, 0, counters);
            final double[][] x = new double[n][count];
            for (int r = 0; r < n; r++) {
                final SplittableRandom rnd = new SplittableRandom(3 + r);
                for (int i = 0; i < count; i++) {
                    x[r][i] = rnd.nextGaussian() * Math.pow(10, rnd.nextInt(-8, 9));
                }
                rounds[r].begin(1, 0L, ChunkHeader.KIND_SMALL_ALL_REDUCE, x[r], count);
            }

            IpcRanks.driveAll(rounds);

            final double[] sum = new double[count];
            final double[] max = new double[count];
            for (int r = 0; r < n; r++) {
                rounds[r].reduce(Kernels.OP_SUM, sum);
                rounds[r].reduce(Kernels.OP_MAX, max);
                for (int i = 0; i < count; i++) {
                    double s = x[0][i];
                    double m = x[0][i];
                    for (int p = 1; p < n; p++) {
                        s += x[p][i];
                        m = Math.max(m, x[p][i]);
                    }
                    assertEquals(Double.doubleToRawLongBits(s), Double.doubleToRawLongBits(sum[i]), "rank " + r);
                    assertEquals(m, max[i], "rank " + r);
                }
            }
            long sent = 0;
            long received = 0;
            for (int r = 0; r < n; r++) {
                sent += counters[r].chunksSent().get();
                received += counters[r].chunksReceived().get();
                assertEquals(3L * (n - 1), counters[r].chunksSent().get());
                assertEquals(
                        (n - 1) * (8L * count + 3 * ChunkHeader.LENGTH),
                        counters[r].bytesSent().get());
                assertEquals(
                        counters[r].bytesSent().get(),
                        counters[r].bytesReceived().get());
            }
            assertEquals(sent, received);
        }
    }

    @Test
    @Timeout(60)
    void shouldDropAndCountAStaleChunkFromAnEarlierGenerationOnTheInbox() {
        final int n = 2;
        final int generation = 3;
        try (IpcRanks ranks = new IpcRanks(n)) {
            final ExclusivePublication stale = ranks.foreignPublication(0, IpcRanks.SESSION_BASE + 77);
            final UnsafeBuffer chunk = new UnsafeBuffer(new byte[ChunkHeader.LENGTH + 8]);
            new ChunkHeader()
                    .wrap(chunk, 0)
                    .write(generation - 1, 1, 0L, 0, 1, 1, ChunkHeader.KIND_BARRIER, Wire.FLOAT64, 0, 1, SECRET);
            chunk.putDouble(ChunkHeader.LENGTH, 1e9);
            IpcRanks.await(() -> stale.offer(chunk, 0, chunk.capacity()) > 0);

            final CollectiveCounters[] counters = new CollectiveCounters[n];
            final AllToAllCollective[] rounds = rounds(ranks, generation, counters);
            final double[][] x = {{1.0}, {2.0}};
            for (int r = 0; r < n; r++) {
                rounds[r].begin(1, 0L, ChunkHeader.KIND_SMALL_ALL_REDUCE, x[r], 1);
            }

            IpcRanks.driveAll(rounds);

            final double[] sum = new double[1];
            rounds[0].reduce(Kernels.OP_SUM, sum);
            assertEquals(3.0, sum[0], "the stale chunk's value is not reduced");
            assertEquals(1, counters[0].staleChunks().get());
            assertEquals(1, counters[0].chunksReceived().get());
            assertEquals(0, counters[1].staleChunks().get());
        }
    }

    /**
     * Issue #17 item 9: before the round, an outsider publishes onto rank 0's inbox a chunk with the round's
     * generation, collective number, kind and length that claims to be rank 1's vector, but without the world's secret,
     * and two more that would fail the round (a later generation) or wait in the log (a later collective) if they
     * carried it. The sum is still exactly the honest one on both ranks and the three are counted as foreign. (Without
     * the secret the forged vector arrived first, was reduced as rank 1's, and rank 1's own was dropped as a duplicate.)
     */
    @Test
    @Timeout(60)
    void shouldReduceOnlyTheHonestVectorsWhenAnOutsiderForgesChunksWithoutTheSecret() {
        final int n = 2;
        final int generation = 3;
        try (IpcRanks ranks = new IpcRanks(n)) {
            final ExclusivePublication outsider = ranks.foreignPublication(0, IpcRanks.SESSION_BASE + 99);
            final UnsafeBuffer chunk = new UnsafeBuffer(new byte[ChunkHeader.LENGTH + 8]);
            final ChunkHeader header = new ChunkHeader().wrap(chunk, 0);
            chunk.putDouble(ChunkHeader.LENGTH, 1e9);
            final long forged = SECRET + 1;
            final byte kind = ChunkHeader.KIND_SMALL_ALL_REDUCE;
            header.write(generation, 1, 0L, 0, 1, 1, kind, Wire.FLOAT64, 0, 1, forged);
            IpcRanks.await(() -> outsider.offer(chunk, 0, chunk.capacity()) > 0);
            header.write(generation + 1, 1, 0L, 0, 1, 1, kind, Wire.FLOAT64, 0, 1, forged);
            IpcRanks.await(() -> outsider.offer(chunk, 0, chunk.capacity()) > 0);
            header.write(generation, 2, 0L, 0, 1, 1, kind, Wire.FLOAT64, 0, 1, forged);
            IpcRanks.await(() -> outsider.offer(chunk, 0, chunk.capacity()) > 0);

            final CollectiveCounters[] counters = new CollectiveCounters[n];
            final AllToAllCollective[] rounds = rounds(ranks, generation, counters);
            final double[][] x = {{1.0}, {2.0}};
            for (int r = 0; r < n; r++) {
                rounds[r].begin(1, 0L, kind, x[r], 1);
            }

            IpcRanks.driveAll(rounds);

            for (int r = 0; r < n; r++) {
                final double[] sum = new double[1];
                rounds[r].reduce(Kernels.OP_SUM, sum);
                assertEquals(3.0, sum[0], "rank " + r + ": only the ranks' vectors are reduced");
            }
            assertEquals(3, counters[0].foreignChunks().get());
            assertEquals(1, counters[0].chunksReceived().get());
            assertEquals(0, counters[0].duplicateChunks().get(), "rank 1's chunk was not taken for a duplicate");
            assertEquals(0, counters[1].foreignChunks().get());
        }
    }

    @Test
    void shouldScreenChunksOfTheRound() {
        final CollectiveCounters counters = new CollectiveCounters(0, 1);
        final AllToAllCollective round = new AllToAllCollective(0, 3, 1, SECRET, counters, new ExclusivePublication[3]);
        round.begin(4, 9L, ChunkHeader.KIND_SMALL_ALL_REDUCE, new double[] {1, 2}, 2);
        final UnsafeBuffer frame = new UnsafeBuffer(ByteBuffer.allocateDirect(ChunkHeader.LENGTH + 16));
        final ChunkHeader header = new ChunkHeader();
        final int length = ChunkHeader.LENGTH + 16;

        header.wrap(frame, 0).write(1, 3, 9L, 0, 2, 1, ChunkHeader.KIND_BARRIER, Wire.FLOAT64, 0, 0, SECRET);
        assertEquals(Action.CONTINUE, round.onFragment(frame, 0, ChunkHeader.LENGTH, null), "earlier collective");
        assertEquals(1, counters.staleChunks().get());
        header.wrap(frame, 0).write(1, 5, 9L, 0, 2, 1, ChunkHeader.KIND_BARRIER, Wire.FLOAT64, 0, 0, SECRET);
        assertEquals(Action.ABORT, round.onFragment(frame, 0, ChunkHeader.LENGTH, null), "later collective");

        header.wrap(frame, 0).write(1, 4, 9L, 0, 2, 2, ChunkHeader.KIND_SMALL_ALL_REDUCE, Wire.FLOAT64, 0, 2, SECRET);
        frame.putDouble(ChunkHeader.LENGTH, 10);
        frame.putDouble(ChunkHeader.LENGTH + 8, 20);
        assertEquals(Action.CONTINUE, round.onFragment(frame, 0, length, null));
        assertEquals(Action.CONTINUE, round.onFragment(frame, 0, length, null), "the same chunk again");
        assertEquals(1, counters.duplicateChunks().get());
        assertEquals(1, counters.chunksReceived().get());
        assertNull(round.failure());
        assertTrue(!round.isComplete(), "rank 1 has sent nothing yet");

        header.wrap(frame, 0).write(1, 4, 9L, 0, 2, 7, ChunkHeader.KIND_SMALL_ALL_REDUCE, Wire.FLOAT64, 0, 2, SECRET);
        assertEquals(Action.BREAK, round.onFragment(frame, 0, length, null));
        assertTrue(round.failure().contains("unknown rank 7"), round.failure());

        round.begin(5, 9L, ChunkHeader.KIND_SMALL_ALL_REDUCE, new double[] {1, 2}, 2);
        header.wrap(frame, 0).write(1, 5, 9L, 0, 2, 1, ChunkHeader.KIND_BARRIER, Wire.FLOAT64, 0, 0, SECRET);
        assertEquals(Action.BREAK, round.onFragment(frame, 0, ChunkHeader.LENGTH, null));
        assertTrue(round.failure().contains("runs a barrier as collective #5"), round.failure());

        round.begin(6, 9L, ChunkHeader.KIND_SMALL_ALL_REDUCE, new double[] {1, 2}, 2);
        header.wrap(frame, 0).write(1, 6, 9L, 0, 2, 1, ChunkHeader.KIND_SMALL_ALL_REDUCE, Wire.FLOAT64, 0, 2, SECRET);
        assertEquals(Action.BREAK, round.onFragment(frame, 0, length - 8, null), "length does not match count");
        assertTrue(round.failure().contains("bytes for 2 elements"), round.failure());
    }
}
