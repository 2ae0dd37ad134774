package dev.dinoj.trainer.collective;

import dev.dinoj.trainer.collective.transport.AllToAllCollective;
import dev.dinoj.trainer.collective.transport.ChunkCollective;
import dev.dinoj.trainer.collective.transport.ChunkHeader;
import dev.dinoj.trainer.collective.transport.CollectiveCounters;
import dev.dinoj.trainer.collective.transport.Kernels;
import dev.dinoj.trainer.collective.transport.RingCollective;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One rank's end of a {@link World}: collectives over Aeron.
 *
 * <p><b>Transport.</b> {@link Peers}: rank {@code r} listens on stream {@code streamIdBase + r}: over IPC for peers
 * that share its media driver, over UDP ({@code host:port} of its {@link Member}) for the others. It holds one
 * exclusive publication to every peer, with a large term towards its ring neighbour {@code r + 1} (bulk data) and
 * small terms towards the rest. Every chunk is one Aeron frame: a {@link ChunkHeader} (generation, collective
 * sequence, step, collective kind, sender, ring step, element offset, count, the world's secret) and up to
 * {@code mtu − 80} bytes of payload, written straight into the log with {@code tryClaim} (one copy) and read straight
 * from it on the other side.
 *
 * <p><b>Algorithms.</b> Reduce-scatter, all-gather and all-reduce are rings ({@link RingCollective}: N − 1 steps
 * each, all-reduce = both), pipelined per chunk: a chunk received in ring step s is forwarded in step s + 1 as soon
 * as it is reduced, so all steps overlap. Small vectors ({@link CollectiveSettings#smallMaxBytes()}) and
 * {@code double} vectors use a one-round all-to-all instead ({@link AllToAllCollective}: every rank sends its vector
 * to every other and reduces the N vectors in rank order, so every rank gets bitwise the same result). Broadcast is
 * a pipelined chain from the root. Barrier is an empty all-to-all. Every blocking call runs its state machine
 * through one {@link DutyCycle}.
 *
 * <p><b>Ordering and safety.</b> A chunk without the world's {@link World#secret() secret} is dropped before anything
 * else of it is trusted (counted as foreign: docs/COLLECTIVES.md, "Who can send a chunk"). Every rank must call the
 * same collectives in the same order. A chunk of an earlier collective or generation is dropped (counted as stale), a
 * chunk of a later collective stays in the log (the fragment handler aborts, which back-pressures the sender) until
 * this rank gets there, a duplicate offset is dropped, and a chunk that contradicts this rank's collective (kind,
 * step, length, sender, gap) fails it with {@link CollectiveException}. A collective that makes no progress (no chunk
 * sent or accepted) for {@link CollectiveSettings#timeout()} fails with
 * {@link CollectiveTimeoutException} naming the silent peers; it never hangs. After any failure the communicator
 * refuses further work: re-form the world at the next generation.
 *
 * <p><b>Buffers.</b> Float vectors are direct {@link ByteBuffer}s in native (little-endian) order, reduced in place.
 * Nothing is allocated per chunk; per collective only when a small all-reduce is larger than any before.
 *
 * <p>Not thread-safe: one thread drives a communicator.
 */
public final class Communicator implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Communicator.class);

    private final World world;
    private final int rank;
    private final int size;
    private final CollectiveSettings settings;
    private final Peers peers; // null in a world of one
    private final CollectiveCounters counters;
    private final RingCollective ring; // null in a world of one
    private final AllToAllCollective allToAll; // null in a world of one
    private final DutyCycle dutyCycle;
    private final UnsafeBuffer data = new UnsafeBuffer(0, 0);
    private double[] floatScratch = new double[0];
    private int sequence;
    private long step;
    private String brokenBecause;
    private boolean closed;

    /** Counters since the communicator was created. */
    public record Stats(
            long chunksSent,
            long chunksReceived,
            long lateChunks,
            long duplicateChunks,
            long backPressureEvents,
            long notConnectedEvents,
            long foreignChunks,
            int collectives) {}

    private Communicator(World world, int rank, CollectiveSettings settings, Peers peers) {
        this.world = world;
        this.rank = rank;
        this.size = world.size();
        this.settings = settings;
        this.peers = peers;
        this.counters = new CollectiveCounters(rank, world.generation());
        this.dutyCycle = new DutyCycle(world, rank, settings);
        if (peers == null) {
            this.ring = null;
            this.allToAll = null;
        } else {
            int right = (rank + 1) % size;
            int left = (rank - 1 + size) % size;
            this.ring = new RingCollective(
                    rank,
                    size,
                    world.generation(),
                    world.secret(),
                    counters,
                    peers.publication(right),
                    peers.image(left));
            this.allToAll = new AllToAllCollective(
                    rank,
                    size,
                    world.generation(),
                    world.secret(),
                    counters,
                    peers.publications(),
                    peers.ipcInbox(),
                    peers.udpInbox());
        }
    }

    /**
     * Joins a world as {@code rank}: connects an Aeron client to the rank's media driver (which must be running, e.g.
     * an {@link EmbeddedDriver} in {@link Member#driverDir()}), opens the inbox and a publication to every peer, and
     * waits until every peer is connected both ways. A world of one rank needs no media driver.
     *
     * @throws CollectiveTimeoutException if some peer does not appear within the connect timeout
     */
    public static Communicator join(World world, int rank, CollectiveSettings settings) {
        if (rank < 0 || rank >= world.size()) {
            throw new IllegalArgumentException("rank " + rank + " outside a world of " + world.size());
        }
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new IllegalStateException("the collectives' wire format is little-endian; this machine is not");
        }
        if (world.size() == 1) {
            return new Communicator(world, rank, settings, null); // a world of one needs no transport
        }
        Peers peers = Peers.connect(world, rank, settings);
        try {
            return new Communicator(world, rank, settings, peers);
        } catch (RuntimeException e) {
            peers.close();
            throw e;
        }
    }

    public int rank() {
        return rank;
    }

    public int size() {
        return size;
    }

    public World world() {
        return world;
    }

    public CollectiveSettings settings() {
        return settings;
    }

    /** Tags the following collectives with a training step (checked on every chunk). */
    public void setStep(long step) {
        this.step = step;
    }

    public long step() {
        return step;
    }

    public Stats stats() {
        return new Stats(
                counters.chunksSent().get(),
                counters.chunksReceived().get(),
                counters.staleChunks().get(),
                counters.duplicateChunks().get(),
                counters.backPressure().get(),
                counters.notConnected().get(),
                counters.foreignChunks().get(),
                sequence);
    }

    /** The Agrona counters behind {@link #stats()} (bytes too). */
    CollectiveCounters counters() {
        return counters;
    }

    // =================================================================================================================
    // Public collectives
    // =================================================================================================================

    /**
     * In-place sum of {@code count} float32 elements over all ranks: the all-to-all algorithm up to
     * {@link CollectiveSettings#smallMaxBytes()}, the ring above.
     */
    public void allReduce(ByteBuffer vector, int count) {
        allReduce(vector, count, WireFormat.F32);
    }

    /** As {@link #allReduce(ByteBuffer, int)}, with a wire format for the ring (bf16 rounds what travels). */
    public void allReduce(ByteBuffer vector, int count, WireFormat wireFormat) {
        checkVector(vector, count);
        if ((long) count * 4 <= settings.smallMaxBytes()) {
            smallFloatAllReduce(vector, count);
        } else {
            ring(vector, Partition.even(count, size), ChunkHeader.KIND_ALL_REDUCE, wireFormat);
        }
    }

    /** Ring all-reduce whatever the size (the bench measures the ring at every size). */
    public void ringAllReduce(ByteBuffer vector, int count, WireFormat wireFormat) {
        checkVector(vector, count);
        ring(vector, Partition.even(count, size), ChunkHeader.KIND_ALL_REDUCE, wireFormat);
    }

    /**
     * In-place ring reduce-scatter: afterwards block {@code rank} of {@code partition} holds the sum over ranks
     * (other blocks hold partial sums).
     */
    public void reduceScatter(ByteBuffer vector, Partition partition, WireFormat wireFormat) {
        checkPartition(vector, partition);
        ring(vector, partition, ChunkHeader.KIND_REDUCE_SCATTER, wireFormat);
    }

    /**
     * In-place ring all-gather: block {@code r} of rank {@code r} is copied to every rank. With bf16 every block,
     * the owner's included, ends up rounded to bf16, so all ranks hold the same values.
     */
    public void allGather(ByteBuffer vector, Partition partition, WireFormat wireFormat) {
        checkPartition(vector, partition);
        ring(vector, partition, ChunkHeader.KIND_ALL_GATHER, wireFormat);
    }

    /** Copies {@code count} float32 elements of rank {@code root} to every rank (pipelined chain). */
    public void broadcast(ByteBuffer vector, int count, int root) {
        checkVector(vector, count);
        if (root < 0 || root >= size) {
            throw new IllegalArgumentException("broadcast root " + root + " outside a world of " + size);
        }
        if (next()) {
            ring.beginChain(sequence, step, vector, count, (rank - root + size) % size);
            drive(ring);
        }
    }

    /**
     * Element-wise reduction of a small {@code double} vector over all ranks, in place, by one all-to-all round
     * (latency-optimised: one message per peer). Every rank gets bitwise the same result (rank-order reduction).
     */
    public void allReduce(double[] values, ReduceOp op) {
        if (allToAll(ChunkHeader.KIND_SMALL_ALL_REDUCE, values, values.length)) {
            allToAll.reduce(op.code(), values);
        }
    }

    /** Returns when every rank has called it. */
    public void barrier() {
        allToAll(ChunkHeader.KIND_BARRIER, floatScratch, 0);
    }

    // =================================================================================================================
    // Set-up of the state machines
    // =================================================================================================================

    private void checkVector(ByteBuffer v, int count) {
        if (!v.isDirect()) {
            throw new IllegalArgumentException("collectives need a direct ByteBuffer (allocateDirect)");
        }
        if (count < 0 || (long) count * 4 > v.capacity()) {
            throw new IllegalArgumentException(count + " floats do not fit a buffer of " + v.capacity() + " bytes");
        }
    }

    private void checkPartition(ByteBuffer v, Partition p) {
        if (p.blocks() != size) {
            throw new IllegalArgumentException("partition has " + p.blocks() + " blocks for a world of " + size);
        }
        checkVector(v, p.total());
    }

    /** Numbers the next collective; false when there is nothing to send (a world of one). */
    private boolean next() {
        if (brokenBecause != null) {
            throw new CollectiveException("rank " + rank + ": the communicator failed earlier (" + brokenBecause
                    + "); re-form the world at the next generation");
        }
        sequence++;
        return size > 1;
    }

    private void drive(ChunkCollective collective) {
        try {
            dutyCycle.run(collective);
        } catch (CollectiveException e) {
            brokenBecause = e.getMessage();
            throw e;
        }
    }

    private void smallFloatAllReduce(ByteBuffer vector, int count) {
        if (floatScratch.length < count) {
            floatScratch = new double[count];
        }
        data.wrap(vector);
        for (int i = 0; i < count; i++) {
            floatScratch[i] = data.getFloat(i << 2);
        }
        if (allToAll(ChunkHeader.KIND_SMALL_ALL_REDUCE, floatScratch, count)) {
            allToAll.reduce(Kernels.OP_SUM, floatScratch);
            for (int i = 0; i < count; i++) {
                data.putFloat(i << 2, (float) floatScratch[i]);
            }
        }
    }

    private void ring(ByteBuffer vector, Partition p, byte kind, WireFormat wireFormat) {
        if (next()) {
            for (int b = 0; b < size; b++) {
                ring.block(b, p.offset(b), p.length(b));
            }
            ring.beginRing(sequence, step, kind, wireFormat.code(), vector);
            drive(ring);
        }
    }

    /** One all-to-all round; false in a world of one (nothing received, nothing to reduce). */
    private boolean allToAll(byte kind, double[] values, int count) {
        if (!next()) {
            return false;
        }
        allToAll.begin(sequence, step, kind, values, count);
        drive(allToAll);
        return true;
    }

    /**
     * Closes the publications, subscriptions and the Aeron client (not the media driver), with a warning if chunks
     * without the world's secret reached this rank. Idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        long foreign = counters.foreignChunks().get();
        if (foreign > 0) {
            log.warn(
                    "Rank {} of {} dropped {} chunk(s) without the world's secret: someone outside the world sends to "
                            + "its inbox ({}:{})",
                    rank,
                    world,
                    foreign,
                    world.member(rank).host(),
                    world.member(rank).port());
        }
        CloseHelper.quietClose(peers);
    }
}
