package dev.dinoj.trainer.collective.transport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.aeron.logbuffer.ControlledFragmentHandler.Action;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.SplittableRandom;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The ring state machine over a real media driver ({@code aeron:ipc}), 2–4 ranks driven round-robin from one thread:
 * results bit for bit against the ring's summation order, counters, and the screening of stale, later, duplicate
 * and foreign chunks fed straight to its fragment handler.
 */
class RingCollectiveTest {
    private static final long SECRET = IpcRanks.SECRET;

    private static ByteBuffer vector(final int count) {
        return ByteBuffer.allocateDirect(count * 4).order(ByteOrder.nativeOrder());
    }

    private static float bf16(final float x) {
        return Wire.fromBf16(Wire.toBf16(Float.floatToRawIntBits(x)));
    }

    private static RingCollective[] rings(final IpcRanks ranks, final CollectiveCounters[] counters) {
        final int n = ranks.size;
        final RingCollective[] rings = new RingCollective[n];
        for (int r = 0; r < n; r++) {
            counters[r] = new CollectiveCounters(r, 0);
            rings[r] = new RingCollective(
                    r, n, 0, SECRET, counters[r], ranks.publications[r][(r + 1) % n], ranks.images[r][(r - 1 + n) % n]);
        }
        return rings;
    }

    /**
     * Block b is summed along the ring starting at rank b + 1 and ending at its owner b: each rank adds what it
     * receives to its own value ({@code own + partial}); with bf16 each partial is rounded before it travels and the
     * owner's sum is rounded for the all-gather.
     */
    private static float expected(final float[][] x, final int i, final int block, final boolean bf16) {
        final int n = x.length;
        float acc = x[(block + 1) % n][i];
        for (int k = 2; k <= n; k++) {
            acc = x[(block + k) % n][i] + (bf16 ? bf16(acc) : acc);
        }
        return bf16 ? bf16(acc) : acc;
    }

    @ParameterizedTest
    @CsvSource({"2, 0", "3, 0", "4, 0", "2, 1", "3, 1", "4, 1"})
    @Timeout(60)
    void shouldAllReduceBitwiseInTheRingOrderAndCountEveryChunk(final int n, final byte wire) {
        final int count = 9_001; // several chunks per block at mtu 4096
        final int[] offsets = new int[n + 1];
        for (int b = 0; b < n; b++) {
            offsets[b + 1] = b == 1 ? offsets[b] : offsets[b] + count / n + b; // block 1 is empty
        }
        offsets[n] = count;
        try (IpcRanks ranks = new IpcRanks(n)) {
            final CollectiveCounters[] counters = new CollectiveCounters[n];
            final RingCollective[] rings = rings(ranks, counters);
            final float[][] x = new float[n][count];
            final ByteBuffer[] v = new ByteBuffer[n];
            for (int r = 0; r < n; r++) {
                final SplittableRandom rnd = new SplittableRandom(7 + r);
                v[r] = vector(count);
                for (int i = 0; i < count; i++) {
                    x[r][i] = (float) (rnd.nextGaussian() * Math.pow(10, rnd.nextInt(-3, 4)));
                    v[r].putFloat(i * 4, x[r][i]);
                }
                for (int b = 0; b < n; b++) {
                    rings[r].block(b, offsets[b], offsets[b + 1] - offsets[b]);
                }
                rings[r].beginRing(1, 3L, ChunkHeader.KIND_ALL_REDUCE, wire, v[r]);
            }

            IpcRanks.driveAll(rings);

            for (int b = 0; b < n; b++) {
                for (int i = offsets[b]; i < offsets[b + 1]; i++) {
                    final int want = Float.floatToRawIntBits(expected(x, i, b, Wire.BFLOAT16 == wire));
                    for (int r = 0; r < n; r++) {
                        assertEquals(
                                want,
                                Float.floatToRawIntBits(v[r].getFloat(i * 4)),
                                "rank " + r + " element " + i + " of block " + b);
                    }
                }
            }
            long sent = 0;
            long received = 0;
            long bytesSent = 0;
            long bytesReceived = 0;
            for (int r = 0; r < n; r++) {
                sent += counters[r].chunksSent().get();
                received += counters[r].chunksReceived().get();
                bytesSent += counters[r].bytesSent().get();
                bytesReceived += counters[r].bytesReceived().get();
                assertEquals(0, counters[r].staleChunks().get());
                assertEquals(0, counters[r].duplicateChunks().get());
            }
            assertTrue(sent >= 2L * (n - 1) * (n - 1), "chunks sent: " + sent);
            assertEquals(sent, received);
            assertEquals(bytesSent, bytesReceived);
            assertEquals(
                    2L * (n - 1) * count * Wire.bytes(wire) + sent * ChunkHeader.LENGTH,
                    bytesSent,
                    "every element travels 2(n − 1) times, each chunk with one header");
        }
    }

    @Test
    @Timeout(60)
    void shouldBroadcastAlongTheChainFromTheRoot() {
        final int n = 3;
        final int count = 5_000;
        final int root = 1;
        try (IpcRanks ranks = new IpcRanks(n)) {
            final RingCollective[] rings = rings(ranks, new CollectiveCounters[n]);
            final ByteBuffer[] v = new ByteBuffer[n];
            for (int r = 0; r < n; r++) {
                v[r] = vector(count);
                for (int i = 0; i < count; i++) {
                    v[r].putFloat(i * 4, r == root ? i * 0.5f : -1f);
                }
                rings[r].beginChain(4, 0L, v[r], count, (r - root + n) % n);
            }

            IpcRanks.driveAll(rings);

            for (int r = 0; r < n; r++) {
                for (int i = 0; i < count; i++) {
                    assertEquals(i * 0.5f, v[r].getFloat(i * 4), "rank " + r + " element " + i);
                }
            }
            assertEquals("broadcast (root)", rings[root].name());
        }
    }

    @Test
    void shouldDropStaleChunksKeepLaterOnesAndFailOnForeignOnes() {
        final int n = 3;
        final int rank = 1;
        final CollectiveCounters counters = new CollectiveCounters(rank, 5);
        final RingCollective ring = new RingCollective(rank, n, 5, SECRET, counters, null, null);
        final ByteBuffer v = vector(30);
        for (int b = 0; b < n; b++) {
            ring.block(b, 10 * b, 10);
        }
        ring.beginRing(8, 2L, ChunkHeader.KIND_REDUCE_SCATTER, Wire.FLOAT32, v);
        final int from = 0; // left neighbour of rank 1
        final int block = 2; // received in ring step 0: rank − 2 mod 3
        final UnsafeBuffer frame = new UnsafeBuffer(ByteBuffer.allocateDirect(ChunkHeader.LENGTH + 40));
        final ChunkHeader header = new ChunkHeader();
        final int length = ChunkHeader.LENGTH + 4 * 4;

        header.wrap(frame, 0)
                .write(4, 8, 2L, 20, 4, from, ChunkHeader.KIND_REDUCE_SCATTER, Wire.FLOAT32, 0, 10, SECRET);
        assertEquals(Action.CONTINUE, ring.onFragment(frame, 0, length, null), "an older generation is stale");
        header.wrap(frame, 0)
                .write(5, 7, 2L, 20, 4, from, ChunkHeader.KIND_REDUCE_SCATTER, Wire.FLOAT32, 0, 10, SECRET);
        assertEquals(Action.CONTINUE, ring.onFragment(frame, 0, length, null), "an earlier collective is stale");
        assertEquals(2, counters.staleChunks().get());
        header.wrap(frame, 0).write(5, 9, 2L, 20, 4, from, ChunkHeader.KIND_ALL_GATHER, Wire.FLOAT32, 0, 10, SECRET);
        assertEquals(Action.ABORT, ring.onFragment(frame, 0, length, null), "a later collective stays in the log");
        assertNull(ring.failure());

        for (int i = 0; i < 4; i++) {
            frame.putFloat(ChunkHeader.LENGTH + i * 4, 1.5f);
        }
        header.wrap(frame, 0)
                .write(5, 8, 2L, 10 * block, 4, from, ChunkHeader.KIND_REDUCE_SCATTER, Wire.FLOAT32, 0, 10, SECRET);
        assertEquals(Action.CONTINUE, ring.onFragment(frame, 0, length, null));
        assertEquals(1, counters.chunksReceived().get());
        assertEquals(length, counters.bytesReceived().get());
        assertEquals(1.5f, v.getFloat(4 * 10 * block));
        assertEquals(Action.CONTINUE, ring.onFragment(frame, 0, length, null), "the same offset again");
        assertEquals(1, counters.duplicateChunks().get());
        assertEquals(1.5f, v.getFloat(4 * 10 * block), "a duplicate is not added twice");
        assertNull(ring.failure());

        header.wrap(frame, 0)
                .write(5, 8, 2L, 10 * block + 4, 4, 2, ChunkHeader.KIND_REDUCE_SCATTER, Wire.FLOAT32, 0, 10, SECRET);
        assertEquals(Action.BREAK, ring.onFragment(frame, 0, length, null), "rank 2 is not the left neighbour");
        assertTrue(ring.failure().contains("unexpected chunk from rank 2"), ring.failure());

        ring.beginRing(9, 2L, ChunkHeader.KIND_REDUCE_SCATTER, Wire.FLOAT32, v);
        header.wrap(frame, 0)
                .write(6, 9, 2L, 20, 4, from, ChunkHeader.KIND_REDUCE_SCATTER, Wire.FLOAT32, 0, 10, SECRET);
        assertEquals(Action.BREAK, ring.onFragment(frame, 0, length, null), "a newer generation with the secret fails");
        assertTrue(ring.failure().contains("generation 6 arrived in generation 5"), ring.failure());

        ring.beginRing(10, 2L, ChunkHeader.KIND_REDUCE_SCATTER, Wire.FLOAT32, v);
        header.wrap(frame, 0)
                .write(5, 10, 3L, 20, 4, from, ChunkHeader.KIND_REDUCE_SCATTER, Wire.FLOAT32, 0, 10, SECRET);
        assertEquals(Action.BREAK, ring.onFragment(frame, 0, length, null));
        assertTrue(ring.failure().contains("is at step 3, this rank at step 2"), ring.failure());
    }

    /**
     * Issue #17 item 9: a chunk that fits the collective in progress in every field but the secret (an outsider who
     * knows the protocol) is dropped and counted before anything else of it is read: it adds nothing, and chunks that
     * would fail the collective or stay in the log if they carried the secret cannot do either without it. The honest
     * chunk at the same offset is then accepted.
     */
    @Test
    void shouldDropChunksWithoutTheWorldsSecretBeforeReadingAnythingElse() {
        final int n = 3;
        final int rank = 1;
        final CollectiveCounters counters = new CollectiveCounters(rank, 5);
        final RingCollective ring = new RingCollective(rank, n, 5, SECRET, counters, null, null);
        final ByteBuffer v = vector(30);
        for (int b = 0; b < n; b++) {
            ring.block(b, 10 * b, 10);
        }
        ring.beginRing(8, 2L, ChunkHeader.KIND_REDUCE_SCATTER, Wire.FLOAT32, v);
        final int from = 0; // left neighbour of rank 1
        final int at = 20; // block 2, received in ring step 0
        final long forged = SECRET ^ 1L;
        final UnsafeBuffer frame = new UnsafeBuffer(ByteBuffer.allocateDirect(ChunkHeader.LENGTH + 40));
        final ChunkHeader header = new ChunkHeader();
        final int length = ChunkHeader.LENGTH + 4 * 4;
        for (int i = 0; i < 4; i++) {
            frame.putFloat(ChunkHeader.LENGTH + i * 4, 1e6f);
        }

        header.wrap(frame, 0)
                .write(5, 8, 2L, at, 4, from, ChunkHeader.KIND_REDUCE_SCATTER, Wire.FLOAT32, 0, 10, forged);
        assertEquals(Action.CONTINUE, ring.onFragment(frame, 0, length, null), "all but the secret fits");
        assertEquals(1, counters.foreignChunks().get());
        assertEquals(0, counters.chunksReceived().get());
        assertEquals(0f, v.getFloat(4 * at), "nothing of it is added");

        header.wrap(frame, 0)
                .write(6, 8, 2L, at, 4, from, ChunkHeader.KIND_REDUCE_SCATTER, Wire.FLOAT32, 0, 10, forged);
        assertEquals(Action.CONTINUE, ring.onFragment(frame, 0, length, null), "a later generation");
        header.wrap(frame, 0).write(5, 9, 2L, at, 4, from, ChunkHeader.KIND_ALL_GATHER, Wire.FLOAT32, 0, 10, forged);
        assertEquals(Action.CONTINUE, ring.onFragment(frame, 0, length, null), "a later collective");
        header.wrap(frame, 0)
                .write(5, 8, 7L, at, 4, from, ChunkHeader.KIND_REDUCE_SCATTER, Wire.FLOAT32, 0, 10, forged);
        assertEquals(Action.CONTINUE, ring.onFragment(frame, 0, length, null), "another step");
        header.wrap(frame, 0).write(5, 8, 2L, at, 4, 2, ChunkHeader.KIND_REDUCE_SCATTER, Wire.FLOAT32, 0, 10, forged);
        assertEquals(Action.CONTINUE, ring.onFragment(frame, 0, length, null), "another sender");
        assertEquals(Action.CONTINUE, ring.onFragment(frame, 0, length - 8, null), "a length that is not the count's");
        assertEquals(Action.CONTINUE, ring.onFragment(frame, 0, ChunkHeader.LENGTH - 8, null), "shorter than a header");
        assertEquals(7, counters.foreignChunks().get());
        assertEquals(0, counters.staleChunks().get());
        assertNull(ring.failure());

        for (int i = 0; i < 4; i++) {
            frame.putFloat(ChunkHeader.LENGTH + i * 4, 1.5f);
        }
        header.wrap(frame, 0)
                .write(5, 8, 2L, at, 4, from, ChunkHeader.KIND_REDUCE_SCATTER, Wire.FLOAT32, 0, 10, SECRET);
        assertEquals(Action.CONTINUE, ring.onFragment(frame, 0, length, null), "the honest chunk");
        assertEquals(1, counters.chunksReceived().get());
        assertEquals(1.5f, v.getFloat(4 * at));
        assertEquals(0f, v.getFloat(4 * (at + 4)));
        assertNull(ring.failure());
    }
}
