package dev.dinoj.trainer.collective;

import dev.dinoj.trainer.collective.transport.ChunkHeader;
import dev.dinoj.trainer.collective.transport.Wire;
import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Image;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.logbuffer.BufferClaim;
import io.aeron.logbuffer.ControlledFragmentHandler;
import io.aeron.logbuffer.Header;
import org.agrona.CloseHelper;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * One rank's end of a {@link World}: collectives over Aeron.
 *
 * <p><b>Transport.</b> Rank {@code r} listens on stream {@code streamIdBase + r}: over IPC for peers that share its
 * media driver, over UDP ({@code host:port} of its {@link Member}) for the others. It holds one exclusive
 * publication to every peer, with a large term towards its ring neighbour {@code r + 1} (bulk data) and small terms
 * towards the rest. Every chunk is one Aeron frame: a {@link ChunkHeader} (generation, collective sequence, step,
 * collective kind, sender, ring step, element offset, count) and up to {@code mtu − 72} bytes of payload, written
 * straight into the log with {@code tryClaim} (one copy) and read straight from it on the other side.
 *
 * <p><b>Algorithms.</b> Reduce-scatter, all-gather and all-reduce are rings (N − 1 steps each, all-reduce = both),
 * pipelined per chunk: a chunk received in ring step s is forwarded in step s + 1 as soon as it is reduced, so all
 * steps overlap. Small vectors ({@link CollectiveSettings#smallMaxBytes()}) and {@code double} vectors use a one-round
 * all-to-all instead (every rank sends its vector to every other and reduces the N vectors in rank order, so every
 * rank gets bitwise the same result). Broadcast is a pipelined chain from the root. Barrier is an empty all-to-all.
 *
 * <p><b>Ordering and safety.</b> Every rank must call the same collectives in the same order. A chunk of an earlier
 * collective or generation is dropped (counted as late), a chunk of a later collective stays in the log (the fragment
 * handler aborts, which back-pressures the sender) until this rank gets there, a duplicate offset is dropped, and a
 * chunk that contradicts this rank's collective (kind, step, length, sender, gap) fails it with
 * {@link CollectiveException}. A collective that makes no progress for {@link CollectiveSettings#timeout()} fails with
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
    private static final int FRAGMENT_LIMIT = 64;
    private static final int SESSION_ID_BASE = 0x4000_0000;

    private final World world;
    private final int rank;
    private final int size;
    private final int left;
    private final int right;
    private final int generation;
    private final CollectiveSettings settings;
    private final long timeoutNs;
    private final Aeron aeron;
    private final ExclusivePublication[] publications;
    private final Subscription ipcSubscription;
    private final Subscription udpSubscription;
    private final Image[] images;
    private final IdleStrategy idle;

    private final BufferClaim claim = new BufferClaim();
    private final ChunkHeader header = new ChunkHeader();
    private final UnsafeBuffer data = new UnsafeBuffer(0, 0);
    private FloatBuffer dataFloats;                              // the vector as floats (per collective)
    private final DirectBuffer[] termKeys = new DirectBuffer[96]; // float views of Aeron term buffers, by identity
    private final FloatBuffer[] termViews = new FloatBuffer[96];
    private final ShortBuffer[] termShortViews = new ShortBuffer[96];   // the same terms as bf16 elements
    private int termViewCount;
    private int lastTermSlot;                                    // slot of the view termView returned last
    private IntBuffer dataInts;                                  // the vector as float bits (per bf16 collective)
    private final ByteBuffer[] sendKeys = new ByteBuffer[8];     // bf16 views of our publications' log buffers
    private final ShortBuffer[] sendViews = new ShortBuffer[8];
    private int sendViewCount;
    private final RingHandler ringHandler = new RingHandler();
    private final AllToAllHandler allToAllHandler = new AllToAllHandler();

    // ---- state of the collective in progress (preallocated) ----
    private int sequence;
    private long step;
    private byte kind;
    private byte wire;
    private Partition partition;
    private int ringSteps;
    private int reduceSteps;
    private boolean chain;
    private final int[] sendBlock;
    private final int[] recvBlock;
    private final int[] sendPos;
    private final int[] recvPos;
    private final int[] sentChunks;
    private final int[] recvChunks;
    private final boolean[] blocked;
    private int smallCount;
    private double[] smallValues;
    private double[][] staging;
    private double[] floatScratch = new double[0];
    private String failure;
    private String brokenBecause;

    // ---- counters ----
    private long chunksSent;
    private long chunksReceived;
    private long lateChunks;
    private long duplicateChunks;
    private long backPressured;
    private long notConnected;

    /** Counters since the communicator was created. */
    public record Stats(long chunksSent, long chunksReceived, long lateChunks, long duplicateChunks,
                        long backPressureEvents, long notConnectedEvents, int collectives) {
    }

    private Communicator(World world, int rank, CollectiveSettings settings, Aeron aeron) {
        this.world = world;
        this.rank = rank;
        this.size = world.size();
        this.left = (rank - 1 + size) % size;
        this.right = (rank + 1) % size;
        this.generation = world.generation();
        this.settings = settings;
        this.timeoutNs = settings.timeout().toNanos();
        this.aeron = aeron;
        this.publications = new ExclusivePublication[size];
        this.images = new Image[size];
        this.idle = settings.newIdleStrategy();
        int maxSteps = Math.max(2 * (size - 1), 1);
        this.sendBlock = new int[maxSteps];
        this.recvBlock = new int[maxSteps];
        this.sendPos = new int[Math.max(maxSteps, size)];
        this.recvPos = new int[Math.max(maxSteps, size)];
        this.sentChunks = new int[size];
        this.recvChunks = new int[size];
        this.blocked = new boolean[size];
        this.staging = new double[size][0];

        boolean anyIpc = false;
        boolean anyUdp = false;
        for (int p = 0; p < size; p++) {
            if (p != rank) {
                if (world.sharesDriver(rank, p)) {
                    anyIpc = true;
                } else {
                    anyUdp = true;
                }
            }
        }
        Member me = world.member(rank);
        int stream = settings.streamIdBase() + rank;
        Subscription ipc = null;
        Subscription udp = null;
        try {
            if (anyIpc) {
                ipc = aeron.addSubscription("aeron:ipc", stream);
            }
            if (anyUdp) {
                udp = aeron.addSubscription("aeron:udp?endpoint=" + me.host() + ":" + me.port()
                        + "|so-rcvbuf=" + settings.udpSocketBuffer() + "|rcv-wnd=" + settings.udpReceiverWindow(), stream);
            }
            for (int p = 0; p < size; p++) {
                if (p != rank) {
                    publications[p] = aeron.addExclusivePublication(channelTo(p), settings.streamIdBase() + p);
                }
            }
        } catch (RuntimeException e) {
            CloseHelper.quietCloseAll(publications);
            CloseHelper.quietCloseAll(ipc, udp);
            throw e;
        }
        this.ipcSubscription = ipc;
        this.udpSubscription = udp;
    }

    private String channelTo(int peer) {
        int term = peer == right ? settings.ringTermLength() : settings.smallTermLength();
        String params = "mtu=" + settings.mtu() + "|term-length=" + term + "|session-id=" + sessionId(generation, rank);
        if (world.sharesDriver(rank, peer)) {
            return "aeron:ipc?" + params;
        }
        Member m = world.member(peer);
        return "aeron:udp?endpoint=" + m.host() + ":" + m.port() + "|" + params + "|so-sndbuf=" + settings.udpSocketBuffer();
    }

    private static int sessionId(int generation, int rank) {
        return SESSION_ID_BASE | (generation << 10) | rank;
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
        Member me = world.member(rank);
        if (world.size() == 1) {
            return new Communicator(world, rank, settings, null);    // a world of one needs no transport
        }
        Aeron aeron;
        try {
            aeron = Aeron.connect(new Aeron.Context()
                    .aeronDirectoryName(me.driverDir())
                    .preTouchMappedMemory(true)                  // no page faults in the first collectives
                    .errorHandler(t -> log.warn("Aeron client of rank {}: {}", rank, t.toString())));
        } catch (RuntimeException e) {
            throw new CollectiveException("rank " + rank + ": no Aeron media driver in " + me.driverDir()
                    + " (start one there, e.g. EmbeddedDriver.launch): " + e.getMessage(), e);
        }
        Communicator c;
        try {
            c = new Communicator(world, rank, settings, aeron);
        } catch (RuntimeException e) {
            aeron.close();
            throw e;
        }
        try {
            c.awaitConnected();
        } catch (RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    private void awaitConnected() {
        long start = System.nanoTime();
        long limit = settings.connectTimeout().toNanos();
        while (true) {
            List<Integer> missing = new ArrayList<>();
            for (int p = 0; p < size; p++) {
                if (p == rank) {
                    continue;
                }
                if (images[p] == null) {
                    Subscription sub = world.sharesDriver(rank, p) ? ipcSubscription : udpSubscription;
                    images[p] = sub.imageBySessionId(sessionId(generation, p));
                }
                if (images[p] == null || !publications[p].isConnected()) {
                    missing.add(p);
                }
            }
            if (missing.isEmpty()) {
                log.debug("Rank {} of {} connected ({})", rank, size, world);
                return;
            }
            long waited = System.nanoTime() - start;
            if (waited > limit) {
                throw new CollectiveTimeoutException("rank " + rank + " of " + world + ": ranks " + missing
                        + " did not connect within " + settings.connectTimeout().toMillis() + " ms", missing,
                        waited / 1_000_000);
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CollectiveException("interrupted while connecting", e);
            }
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
        return new Stats(chunksSent, chunksReceived, lateChunks, duplicateChunks, backPressured, notConnected, sequence);
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
            ring(vector, Partition.even(count, size), ChunkHeader.KIND_ALL_REDUCE, wireFormat.code());
        }
    }

    /** Ring all-reduce whatever the size (the bench measures the ring at every size). */
    public void ringAllReduce(ByteBuffer vector, int count, WireFormat wireFormat) {
        checkVector(vector, count);
        ring(vector, Partition.even(count, size), ChunkHeader.KIND_ALL_REDUCE, wireFormat.code());
    }

    /**
     * In-place ring reduce-scatter: afterwards block {@code rank} of {@code partition} holds the sum over ranks
     * (other blocks hold partial sums).
     */
    public void reduceScatter(ByteBuffer vector, Partition partition, WireFormat wireFormat) {
        checkPartition(vector, partition);
        ring(vector, partition, ChunkHeader.KIND_REDUCE_SCATTER, wireFormat.code());
    }

    /**
     * In-place ring all-gather: block {@code r} of rank {@code r} is copied to every rank. With bf16 every block,
     * the owner's included, ends up rounded to bf16, so all ranks hold the same values.
     */
    public void allGather(ByteBuffer vector, Partition partition, WireFormat wireFormat) {
        checkPartition(vector, partition);
        ring(vector, partition, ChunkHeader.KIND_ALL_GATHER, wireFormat.code());
    }

    /** Copies {@code count} float32 elements of rank {@code root} to every rank (pipelined chain). */
    public void broadcast(ByteBuffer vector, int count, int root) {
        checkVector(vector, count);
        if (root < 0 || root >= size) {
            throw new IllegalArgumentException("broadcast root " + root + " outside a world of " + size);
        }
        checkUsable();
        sequence++;
        if (size == 1) {
            return;
        }
        data.wrap(vector);
        kind = ChunkHeader.KIND_BROADCAST;
        wire = Wire.FLOAT32;
        partition = Partition.of(0, count);
        ringSteps = 1;
        reduceSteps = 0;
        chain = true;
        sendBlock[0] = 0;
        recvBlock[0] = 0;
        int d = (rank - root + size) % size;
        sendPos[0] = d == size - 1 ? count : 0;        // the last rank of the chain forwards nothing
        recvPos[0] = d == 0 ? count : 0;               // the root has it all
        run(d == 0 ? "broadcast (root)" : "broadcast");
    }

    /**
     * Element-wise reduction of a small {@code double} vector over all ranks, in place, by one all-to-all round
     * (latency-optimised: one message per peer). Every rank gets bitwise the same result (rank-order reduction).
     */
    public void allReduce(double[] values, ReduceOp op) {
        allToAll(ChunkHeader.KIND_SMALL_ALL_REDUCE, values, values.length);
        if (size == 1) {
            return;
        }
        for (int i = 0; i < values.length; i++) {
            double acc = staging[0][i];
            for (int p = 1; p < size; p++) {
                acc = op.apply(acc, staging[p][i]);
            }
            values[i] = acc;
        }
    }

    /** Returns when every rank has called it. */
    public void barrier() {
        allToAll(ChunkHeader.KIND_BARRIER, floatScratch, 0);
    }

    // =================================================================================================================
    // Engine
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

    private void checkUsable() {
        if (brokenBecause != null) {
            throw new CollectiveException("rank " + rank + ": the communicator failed earlier (" + brokenBecause
                    + "); re-form the world at the next generation");
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
        allToAll(ChunkHeader.KIND_SMALL_ALL_REDUCE, floatScratch, count);
        if (size == 1) {
            return;
        }
        data.wrap(vector);
        for (int i = 0; i < count; i++) {
            double acc = staging[0][i];
            for (int p = 1; p < size; p++) {
                acc += staging[p][i];
            }
            data.putFloat(i << 2, (float) acc);
        }
    }

    private void ring(ByteBuffer vector, Partition p, byte kind, byte wireCode) {
        checkUsable();
        sequence++;
        if (size == 1) {
            return;
        }
        data.wrap(vector);
        ByteBuffer dup = vector.duplicate();
        dup.clear();
        dataFloats = dup.order(ByteOrder.nativeOrder()).asFloatBuffer();
        dataInts = wireCode == Wire.BFLOAT16 ? dup.order(ByteOrder.nativeOrder()).asIntBuffer() : null;
        this.kind = kind;
        this.wire = wireCode;
        this.partition = p;
        this.chain = false;
        int n = size;
        reduceSteps = kind == ChunkHeader.KIND_ALL_GATHER ? 0 : n - 1;
        int gatherSteps = kind == ChunkHeader.KIND_REDUCE_SCATTER ? 0 : n - 1;
        ringSteps = reduceSteps + gatherSteps;
        for (int s = 0; s < ringSteps; s++) {
            if (s < reduceSteps) {
                sendBlock[s] = mod(rank - s - 1);
                recvBlock[s] = mod(rank - s - 2);
            } else {
                int t = s - reduceSteps;
                sendBlock[s] = mod(rank - t);
                recvBlock[s] = mod(rank - t - 1);
            }
            sendPos[s] = 0;
            recvPos[s] = 0;
        }
        run(ChunkHeader.kindName(kind));
    }

    private int mod(int x) {
        return ((x % size) + size) % size;
    }

    /** Drives the ring/chain collective set up in the fields until it completes, fails or times out. */
    private void run(String what) {
        failure = null;
        long lastProgress = System.nanoTime();
        idle.reset();
        Image from = images[left];
        try {
            while (true) {
                int work = sendRing();
                work += from.controlledPoll(ringHandler, FRAGMENT_LIMIT);
                if (failure != null) {
                    throw new CollectiveException("rank " + rank + ", " + what + " #" + sequence + " at step " + step
                            + ": " + failure);
                }
                if (ringComplete()) {
                    return;
                }
                if (work > 0) {
                    lastProgress = System.nanoTime();
                    idle.reset();
                } else {
                    long now = System.nanoTime();
                    boolean leftGone = from.isClosed() && ringReceiveIncomplete();
                    if (now - lastProgress > timeoutNs || leftGone) {
                        throw ringTimeout(what, now - lastProgress, leftGone);
                    }
                    idle.idle();
                }
            }
        } catch (CollectiveException e) {
            brokenBecause = e.getMessage();
            throw e;
        }
    }

    private int sendRing() {
        int work = 0;
        ExclusivePublication pub = publications[right];
        int fragElems = (pub.maxPayloadLength() - ChunkHeader.LENGTH) / Wire.bytes(wire) & ~7;
        for (int s = 0; s < ringSteps; s++) {
            int block = sendBlock[s];
            int len = partition.length(block);
            int limit = chain ? recvPos[0] : s == 0 ? len : recvPos[s - 1];
            while (sendPos[s] < limit) {
                int count = Math.min(fragElems, limit - sendPos[s]);
                int at = partition.offset(block) + sendPos[s];
                if (wire == Wire.BFLOAT16 && s == reduceSteps) {
                    roundToBf16(at, count);                     // the owner keeps what its peers receive
                }
                if (!sendChunk(pub, right, s, at, count, len)) {
                    return work;
                }
                sendPos[s] += count;
                work++;
            }
        }
        return work;
    }

    private boolean sendChunk(ExclusivePublication pub, int peer, int ringStep, int at, int count, int total) {
        long result = pub.tryClaim(ChunkHeader.LENGTH + count * Wire.bytes(wire), claim);
        if (result > 0) {
            MutableDirectBuffer b = claim.buffer();
            int o = claim.offset();
            header.wrap(b, o).write(generation, sequence, step, at, count, rank, kind, wire, ringStep, total);
            ShortBuffer dst = wire == Wire.BFLOAT16 && dataInts != null ? sendView(b) : null;
            int dstByte = b.wrapAdjustment() + o + ChunkHeader.LENGTH;
            if (dst != null && (dstByte & 1) == 0) {
                encodeBf16(dataInts, at, dst, dstByte >> 1, count);
            } else {
                Wire.encode(data, at << 2, b, o + ChunkHeader.LENGTH, count, wire);
            }
            claim.commit();
            chunksSent++;
            blocked[peer] = false;
            return true;
        }
        offerFailed(result, peer);
        return false;
    }

    private void offerFailed(long result, int peer) {
        blocked[peer] = true;
        if (result == Publication.BACK_PRESSURED || result == Publication.ADMIN_ACTION) {
            backPressured++;
        } else if (result == Publication.NOT_CONNECTED) {
            notConnected++;
        } else if (result == Publication.CLOSED) {
            failure = "the publication to rank " + peer + " is closed (media driver gone?)";
        } else if (result == Publication.MAX_POSITION_EXCEEDED) {
            failure = "the publication to rank " + peer + " reached its maximum position; re-form the world";
        }
    }

    private boolean ringComplete() {
        for (int s = 0; s < ringSteps; s++) {
            if (sendPos[s] < partition.length(sendBlock[s]) || recvPos[s] < partition.length(recvBlock[s])) {
                return false;
            }
        }
        return true;
    }

    private boolean ringReceiveIncomplete() {
        for (int s = 0; s < ringSteps; s++) {
            if (recvPos[s] < partition.length(recvBlock[s])) {
                return true;
            }
        }
        return false;
    }

    private CollectiveTimeoutException ringTimeout(String what, long elapsedNs, boolean imageClosed) {
        List<Integer> peers = new ArrayList<>();
        boolean recvMissing = false;
        boolean sendMissing = false;
        for (int s = 0; s < ringSteps; s++) {
            recvMissing |= recvPos[s] < partition.length(recvBlock[s]);
            sendMissing |= sendPos[s] < partition.length(sendBlock[s]);
        }
        if (recvMissing || imageClosed) {
            peers.add(left);
        }
        if (sendMissing && blocked[right] && !peers.contains(right)) {
            peers.add(right);
        }
        String msg = "rank " + rank + ", " + what + " #" + sequence + " at step " + step + ": "
                + (imageClosed ? "the stream from rank " + left + " closed (peer gone)"
                : "no progress for " + elapsedNs / 1_000_000 + " ms") + "; waiting for rank(s) " + peers + " (" + world + ")";
        return new CollectiveTimeoutException(msg, peers, elapsedNs / 1_000_000);
    }

    /** One all-to-all round: every rank's {@code values[0..count)} lands in {@code staging[rank]} of every rank. */
    private void allToAll(byte kind, double[] values, int count) {
        checkUsable();
        sequence++;
        if (size == 1) {
            return;
        }
        this.kind = kind;
        this.wire = Wire.FLOAT64;
        this.smallValues = values;
        this.smallCount = count;
        if (staging[0].length < count) {
            staging = new double[size][Math.max(count, 2 * staging[0].length)];
        }
        System.arraycopy(values, 0, staging[rank], 0, count);
        for (int p = 0; p < size; p++) {
            sendPos[p] = p == rank ? count : 0;
            recvPos[p] = p == rank ? count : 0;
            sentChunks[p] = p == rank ? 1 : 0;
            recvChunks[p] = p == rank ? 1 : 0;
            blocked[p] = false;
        }
        failure = null;
        String what = ChunkHeader.kindName(kind);
        long lastProgress = System.nanoTime();
        idle.reset();
        try {
            while (true) {
                int work = 0;
                for (int i = 1; i < size; i++) {
                    int p = (rank + i) % size;
                    work += sendAllToAll(p);
                }
                if (ipcSubscription != null) {
                    work += ipcSubscription.controlledPoll(allToAllHandler, FRAGMENT_LIMIT);
                }
                if (udpSubscription != null) {
                    work += udpSubscription.controlledPoll(allToAllHandler, FRAGMENT_LIMIT);
                }
                if (failure != null) {
                    throw new CollectiveException("rank " + rank + ", " + what + " #" + sequence + " at step " + step
                            + ": " + failure);
                }
                if (allToAllComplete()) {
                    return;
                }
                if (work > 0) {
                    lastProgress = System.nanoTime();
                    idle.reset();
                } else {
                    long now = System.nanoTime();
                    if (now - lastProgress > timeoutNs) {
                        throw allToAllTimeout(what, now - lastProgress);
                    }
                    idle.idle();
                }
            }
        } catch (CollectiveException e) {
            brokenBecause = e.getMessage();
            throw e;
        }
    }

    private int sendAllToAll(int peer) {
        int work = 0;
        ExclusivePublication pub = publications[peer];
        int fragElems = (pub.maxPayloadLength() - ChunkHeader.LENGTH) / 8;
        while (sentChunks[peer] == 0 || sendPos[peer] < smallCount) {
            int count = Math.min(fragElems, smallCount - sendPos[peer]);
            long result = pub.tryClaim(ChunkHeader.LENGTH + count * 8, claim);
            if (result <= 0) {
                offerFailed(result, peer);
                return work;
            }
            MutableDirectBuffer b = claim.buffer();
            int o = claim.offset();
            int at = sendPos[peer];
            header.wrap(b, o).write(generation, sequence, step, at, count, rank, kind, Wire.FLOAT64, 0, smallCount);
            int d = o + ChunkHeader.LENGTH;
            for (int i = 0; i < count; i++, d += 8) {
                b.putDouble(d, smallValues[at + i]);
            }
            claim.commit();
            chunksSent++;
            blocked[peer] = false;
            sendPos[peer] += count;
            sentChunks[peer]++;
            work++;
        }
        return work;
    }

    private boolean allToAllComplete() {
        for (int p = 0; p < size; p++) {
            if (sentChunks[p] == 0 || sendPos[p] < smallCount || recvChunks[p] == 0 || recvPos[p] < smallCount) {
                return false;
            }
        }
        return true;
    }

    private CollectiveTimeoutException allToAllTimeout(String what, long elapsedNs) {
        List<Integer> peers = new ArrayList<>();
        for (int p = 0; p < size; p++) {
            boolean recvMissing = recvChunks[p] == 0 || recvPos[p] < smallCount;
            boolean sendMissing = (sentChunks[p] == 0 || sendPos[p] < smallCount) && blocked[p];
            if (p != rank && (recvMissing || sendMissing)) {
                peers.add(p);
            }
        }
        String msg = "rank " + rank + ", " + what + " #" + sequence + " at step " + step + ": no progress for "
                + elapsedNs / 1_000_000 + " ms; waiting for rank(s) " + peers + " (" + world + ")";
        return new CollectiveTimeoutException(msg, peers, elapsedNs / 1_000_000);
    }

    // =================================================================================================================
    // Fragment handlers (no allocation on the normal path; errors are recorded, never thrown into Aeron)
    // =================================================================================================================

    /**
     * Common checks of a chunk against the collective in progress.
     *
     * @return CONTINUE to drop (late), ABORT to keep for later, null to accept, BREAK after recording a failure
     */
    private ControlledFragmentHandler.Action screen(DirectBuffer buffer, int offset, int length) {
        if (length < ChunkHeader.LENGTH) {
            failure = "a frame of " + length + " bytes is shorter than a chunk header";
            return ControlledFragmentHandler.Action.BREAK;
        }
        int gen = ChunkHeader.generation(buffer, offset);
        if (gen != generation) {
            if (gen < generation) {
                lateChunks++;
                return ControlledFragmentHandler.Action.CONTINUE;
            }
            failure = "a chunk of generation " + gen + " arrived in generation " + generation;
            return ControlledFragmentHandler.Action.BREAK;
        }
        int seq = ChunkHeader.sequence(buffer, offset);
        if (seq < sequence) {
            lateChunks++;
            return ControlledFragmentHandler.Action.CONTINUE;
        }
        if (seq > sequence) {
            return ControlledFragmentHandler.Action.ABORT;          // a later collective: leave it in the log
        }
        byte k = ChunkHeader.kind(buffer, offset);
        int sender = ChunkHeader.sender(buffer, offset);
        if (k != kind) {
            failure = "rank " + sender + " runs a " + ChunkHeader.kindName(k) + " as collective #" + seq
                    + " where this rank runs a " + ChunkHeader.kindName(kind) + " (ranks must call the same collectives in order)";
            return ControlledFragmentHandler.Action.BREAK;
        }
        long st = ChunkHeader.step(buffer, offset);
        if (st != step) {
            failure = "rank " + sender + " is at step " + st + ", this rank at step " + step;
            return ControlledFragmentHandler.Action.BREAK;
        }
        int count = ChunkHeader.count(buffer, offset);
        byte w = ChunkHeader.wire(buffer, offset);
        if (w != wire) {
            failure = "rank " + sender + " sends wire format " + w + ", this rank expects " + wire;
            return ControlledFragmentHandler.Action.BREAK;
        }
        if (count < 0 || length != ChunkHeader.LENGTH + count * Wire.bytes(w)) {
            failure = "a chunk of rank " + sender + " has " + length + " bytes for " + count + " elements";
            return ControlledFragmentHandler.Action.BREAK;
        }
        return null;
    }

    private final class RingHandler implements ControlledFragmentHandler {
        @Override
        public Action onFragment(DirectBuffer buffer, int offset, int length, Header h) {
            Action a = screen(buffer, offset, length);
            if (a != null) {
                return a;
            }
            int sender = ChunkHeader.sender(buffer, offset);
            int rs = ChunkHeader.ringStep(buffer, offset);
            if (sender != left || rs < 0 || rs >= ringSteps) {
                failure = "unexpected chunk from rank " + sender + " for ring step " + rs + " (left neighbour is " + left
                        + ", " + ringSteps + " steps)";
                return Action.BREAK;
            }
            int block = recvBlock[rs];
            int blockStart = partition.offset(block);
            int len = partition.length(block);
            if (ChunkHeader.total(buffer, offset) != len) {
                failure = "rank " + sender + " sends block " + block + " with " + ChunkHeader.total(buffer, offset)
                        + " elements, this rank's partition has " + len;
                return Action.BREAK;
            }
            long rel = ChunkHeader.elementOffset(buffer, offset) - blockStart;
            int count = ChunkHeader.count(buffer, offset);
            if (rel < recvPos[rs]) {
                duplicateChunks++;
                return Action.CONTINUE;
            }
            if (rel > recvPos[rs] || count == 0 || rel + count > len) {
                failure = "chunk [" + rel + ", " + (rel + count) + ") of block " + block + " from rank " + sender
                        + " does not continue at " + recvPos[rs];
                return Action.BREAK;
            }
            int dst = (blockStart + (int) rel) << 2;
            if (wire == Wire.BFLOAT16 && termView(buffer) != null) {
                ShortBuffer src = termShortViews[lastTermSlot];
                int srcIndex = (offset + ChunkHeader.LENGTH) >> 1;
                if (rs < reduceSteps) {
                    addBf16(src, srcIndex, dataFloats, dst >> 2, count);
                } else {
                    copyBf16(src, srcIndex, dataFloats, dst >> 2, count);
                }
            } else if (rs < reduceSteps) {
                FloatBuffer src = wire == Wire.FLOAT32 ? termView(buffer) : null;
                if (src != null) {
                    addFloats(src, (offset + ChunkHeader.LENGTH) >> 2, dataFloats, dst >> 2, count);
                } else {
                    Wire.add(buffer, offset + ChunkHeader.LENGTH, data, dst, count, wire);
                }
            } else {
                Wire.copy(buffer, offset + ChunkHeader.LENGTH, data, dst, count, wire);
            }
            recvPos[rs] += count;
            chunksReceived++;
            return Action.CONTINUE;
        }
    }

    private final class AllToAllHandler implements ControlledFragmentHandler {
        @Override
        public Action onFragment(DirectBuffer buffer, int offset, int length, Header h) {
            Action a = screen(buffer, offset, length);
            if (a != null) {
                return a;
            }
            int sender = ChunkHeader.sender(buffer, offset);
            if (sender < 0 || sender >= size || sender == rank) {
                failure = "chunk from unknown rank " + sender;
                return Action.BREAK;
            }
            if (ChunkHeader.total(buffer, offset) != smallCount) {
                failure = "rank " + sender + " reduces " + ChunkHeader.total(buffer, offset) + " elements, this rank "
                        + smallCount;
                return Action.BREAK;
            }
            long at = ChunkHeader.elementOffset(buffer, offset);
            int count = ChunkHeader.count(buffer, offset);
            if (at < recvPos[sender] || (recvChunks[sender] > 0 && at == recvPos[sender] && count == 0)) {
                duplicateChunks++;
                return Action.CONTINUE;
            }
            if (at > recvPos[sender] || at + count > smallCount) {
                failure = "chunk [" + at + ", " + (at + count) + ") from rank " + sender + " does not continue at "
                        + recvPos[sender];
                return Action.BREAK;
            }
            double[] dst = staging[sender];
            int s = offset + ChunkHeader.LENGTH;
            for (int i = 0; i < count; i++, s += 8) {
                dst[(int) at + i] = buffer.getDouble(s);
            }
            recvPos[sender] += count;
            recvChunks[sender]++;
            chunksReceived++;
            return Action.CONTINUE;
        }
    }

    /**
     * A float view of an Aeron term buffer, made once per term buffer (the JIT vectorises indexed FloatBuffer loops,
     * not UnsafeBuffer ones: the reduction runs about 1.5x faster). Null when the buffer wraps no ByteBuffer.
     */
    private FloatBuffer termView(DirectBuffer term) {
        for (int i = 0; i < termViewCount; i++) {
            if (termKeys[i] == term) {
                lastTermSlot = i;
                return termViews[i];
            }
        }
        ByteBuffer bb = term.byteBuffer();
        if (bb == null || (term.wrapAdjustment() & 3) != 0) {
            return null;
        }
        ByteBuffer d = bb.duplicate();
        d.clear();
        d.position(term.wrapAdjustment());
        d.limit(term.wrapAdjustment() + term.capacity());
        ByteBuffer slice = d.slice().order(ByteOrder.nativeOrder());
        FloatBuffer view = slice.asFloatBuffer();
        int slot = termViewCount < termKeys.length ? termViewCount++ : (int) (chunksReceived % termKeys.length);
        termKeys[slot] = term;
        termViews[slot] = view;
        termShortViews[slot] = slice.asShortBuffer();
        lastTermSlot = slot;
        return view;
    }

    /**
     * A bf16 view of the whole log buffer behind a claimed frame, made once per log buffer (publications keep theirs
     * for the life of the communicator); null when the frame wraps no ByteBuffer.
     */
    private ShortBuffer sendView(DirectBuffer frame) {
        ByteBuffer bb = frame.byteBuffer();
        if (bb == null) {
            return null;
        }
        for (int i = 0; i < sendViewCount; i++) {
            if (sendKeys[i] == bb) {
                return sendViews[i];
            }
        }
        ByteBuffer d = bb.duplicate();
        d.clear();
        ShortBuffer view = d.order(ByteOrder.nativeOrder()).asShortBuffer();
        int slot = sendViewCount < sendKeys.length ? sendViewCount++ : (int) (chunksSent % sendKeys.length);
        sendKeys[slot] = bb;
        sendViews[slot] = view;
        return view;
    }

    /**
     * float32 → bf16 (round to nearest even) through indexed NIO views: about twice as fast as the same loop through
     * {@code UnsafeBuffer} on this JVM; the NaN test inside {@link Wire#toBf16} is a branch that is never taken for
     * finite gradients, and it measured faster than the branch-free forms (C2 of JDK 17 vectorises none of them).
     */
    private static void encodeBf16(IntBuffer src, int srcIndex, ShortBuffer dst, int dstIndex, int count) {
        for (int i = 0; i < count; i++) {
            dst.put(dstIndex + i, (short) Wire.toBf16(src.get(srcIndex + i)));
        }
    }

    private static void addBf16(ShortBuffer src, int srcIndex, FloatBuffer dst, int dstIndex, int count) {
        for (int i = 0; i < count; i++) {
            dst.put(dstIndex + i, dst.get(dstIndex + i) + Float.intBitsToFloat(src.get(srcIndex + i) << 16));
        }
    }

    private static void copyBf16(ShortBuffer src, int srcIndex, FloatBuffer dst, int dstIndex, int count) {
        for (int i = 0; i < count; i++) {
            dst.put(dstIndex + i, Float.intBitsToFloat(src.get(srcIndex + i) << 16));
        }
    }

    /** Rounds elements [at, at + count) of the vector to bf16 in place (the owner of an all-gathered block). */
    private void roundToBf16(int at, int count) {
        if (dataInts == null) {
            Wire.roundToBf16(data, at << 2, count);
            return;
        }
        for (int i = at; i < at + count; i++) {
            dataInts.put(i, Wire.toBf16(dataInts.get(i)) << 16);
        }
    }

    private static void addFloats(FloatBuffer src, int srcIndex, FloatBuffer dst, int dstIndex, int count) {
        for (int i = 0; i < count; i++) {
            dst.put(dstIndex + i, dst.get(dstIndex + i) + src.get(srcIndex + i));
        }
    }

    /** Closes the publications, subscriptions and the Aeron client (not the media driver). Idempotent. */
    @Override
    public void close() {
        CloseHelper.quietCloseAll(publications);
        CloseHelper.quietCloseAll(ipcSubscription, udpSubscription);
        CloseHelper.quietClose(aeron);
    }
}
