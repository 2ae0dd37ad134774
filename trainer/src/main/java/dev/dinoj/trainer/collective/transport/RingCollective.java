package dev.dinoj.trainer.collective.transport;

import io.aeron.ExclusivePublication;
import io.aeron.Image;
import io.aeron.logbuffer.Header;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.ShortBuffer;
import java.util.List;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Ring reduce-scatter, all-gather and all-reduce (N − 1 ring steps each, all-reduce = both), and the pipelined chain
 * of a broadcast, as one preallocated state machine: chunks go to the right neighbour's publication, come from the
 * left neighbour's image. Pipelined per chunk: a chunk received in ring step {@code s} is forwarded in step
 * {@code s + 1} as soon as it is reduced, so all steps overlap.
 *
 * <p>The vector is a direct buffer of float32 in native order, reduced in place; the blocks (one per rank, possibly
 * empty) are set with {@link #block(int, int, int)} before each collective. Float32 and bf16 payloads are read
 * straight from the term buffer and written straight into the claimed frame through NIO views ({@link BufferViews},
 * {@link Kernels}). Nothing is allocated per chunk.
 */
public final class RingCollective extends ChunkCollective {
    private final int left;
    private final int right;
    private final ExclusivePublication publication;
    private final Image image;
    private final BufferViews views = new BufferViews();
    private final UnsafeBuffer data = new UnsafeBuffer(0, 0);
    private FloatBuffer dataFloats;
    private IntBuffer dataInts;

    private final int[] blockOffset;
    private final int[] blockLength;
    private final int[] sendBlock;
    private final int[] recvBlock;
    private final int[] sendPos;
    private final int[] recvPos;
    private int ringSteps;
    private int reduceSteps;
    private boolean chain;
    private boolean root;

    /**
     * @param rank        this rank
     * @param size        ranks in the world (at least 2)
     * @param generation  of the world
     * @param secret      of the world (in every chunk)
     * @param counters    where to count
     * @param publication to the right neighbour {@code rank + 1}
     * @param image       of the left neighbour {@code rank − 1} in this rank's inbox
     */
    public RingCollective(
            final int rank,
            final int size,
            final int generation,
            final long secret,
            final CollectiveCounters counters,
            final ExclusivePublication publication,
            final Image image) {
        super(rank, size, generation, secret, counters);
        this.left = (rank - 1 + size) % size;
        this.right = (rank + 1) % size;
        this.publication = publication;
        this.image = image;
        final int maxSteps = Math.max(2 * (size - 1), 1);
        this.blockOffset = new int[size];
        this.blockLength = new int[size];
        this.sendBlock = new int[maxSteps];
        this.recvBlock = new int[maxSteps];
        this.sendPos = new int[maxSteps];
        this.recvPos = new int[maxSteps];
    }

    /**
     * Sets block {@code block} of the next collective's partition.
     *
     * @param block  rank whose block it is
     * @param offset first element
     * @param length elements (may be 0)
     */
    public void block(final int block, final int offset, final int length) {
        blockOffset[block] = offset;
        blockLength[block] = length;
    }

    /**
     * Starts a ring collective over the blocks set with {@link #block(int, int, int)}.
     *
     * @param sequence collective number
     * @param step     training step tag
     * @param kind     {@link ChunkHeader#KIND_ALL_REDUCE}, {@link ChunkHeader#KIND_REDUCE_SCATTER} or
     *                 {@link ChunkHeader#KIND_ALL_GATHER}
     * @param wire     {@link Wire#FLOAT32} or {@link Wire#BFLOAT16}
     * @param vector   the direct float32 vector, reduced in place
     */
    public void beginRing(
            final int sequence, final long step, final byte kind, final byte wire, final ByteBuffer vector) {
        begin(sequence, step, kind, wire);
        data.wrap(vector);
        final ByteBuffer dup = vector.duplicate();
        dup.clear();
        dataFloats = dup.order(ByteOrder.nativeOrder()).asFloatBuffer();
        dataInts = Wire.BFLOAT16 == wire ? dup.order(ByteOrder.nativeOrder()).asIntBuffer() : null;
        chain = false;
        root = false;
        reduceSteps = ChunkHeader.KIND_ALL_GATHER == kind ? 0 : size - 1;
        final int gatherSteps = ChunkHeader.KIND_REDUCE_SCATTER == kind ? 0 : size - 1;
        ringSteps = reduceSteps + gatherSteps;
        for (int s = 0; s < ringSteps; s++) {
            if (s < reduceSteps) {
                sendBlock[s] = mod(rank - s - 1);
                recvBlock[s] = mod(rank - s - 2);
            } else {
                final int t = s - reduceSteps;
                sendBlock[s] = mod(rank - t);
                recvBlock[s] = mod(rank - t - 1);
            }
            sendPos[s] = 0;
            recvPos[s] = 0;
        }
    }

    /**
     * Starts a broadcast along the chain root → root + 1 → …: every rank forwards what it receives to its right
     * neighbour, except the last.
     *
     * @param sequence collective number
     * @param step     training step tag
     * @param vector   the direct float32 vector (the root's is sent, the others' overwritten)
     * @param count    elements
     * @param distance {@code (rank − root) mod size}
     */
    public void beginChain(
            final int sequence, final long step, final ByteBuffer vector, final int count, final int distance) {
        begin(sequence, step, ChunkHeader.KIND_BROADCAST, Wire.FLOAT32);
        data.wrap(vector);
        dataFloats = null;
        dataInts = null;
        chain = true;
        root = 0 == distance;
        blockOffset[0] = 0;
        blockLength[0] = count;
        ringSteps = 1;
        reduceSteps = 0;
        sendBlock[0] = 0;
        recvBlock[0] = 0;
        sendPos[0] = size - 1 == distance ? count : 0; // the last rank of the chain forwards nothing
        recvPos[0] = root ? count : 0; // the root has it all
    }

    /** {@inheritDoc} */
    public int doWork() {
        int work = send();
        work += image.controlledPoll(this, FRAGMENT_LIMIT);
        return work;
    }

    /** {@inheritDoc} */
    public boolean isComplete() {
        for (int s = 0; s < ringSteps; s++) {
            if (sendPos[s] < blockLength[sendBlock[s]] || recvPos[s] < blockLength[recvBlock[s]]) {
                return false;
            }
        }
        return true;
    }

    /** {@inheritDoc} */
    public int closedPeer() {
        return image.isClosed() && receiveIncomplete() ? left : -1;
    }

    /** {@inheritDoc} */
    public void waitingFor(final int closedPeer, final List<Integer> peers) {
        boolean recvMissing = false;
        boolean sendMissing = false;
        for (int s = 0; s < ringSteps; s++) {
            recvMissing |= recvPos[s] < blockLength[recvBlock[s]];
            sendMissing |= sendPos[s] < blockLength[sendBlock[s]];
        }
        if (recvMissing || closedPeer >= 0) {
            peers.add(left);
        }
        if (sendMissing && blocked[right] && !peers.contains(right)) {
            peers.add(right);
        }
    }

    /** {@inheritDoc} */
    public String name() {
        if (chain) {
            return root ? "broadcast (root)" : "broadcast";
        }
        return ChunkHeader.kindName(kind);
    }

    /**
     * Accepts the next chunk of a ring step from the left neighbour: adds it into the vector (reduce steps) or copies
     * it over (gather steps, chain).
     */
    public Action onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header) {
        final Action screened = screen(buffer, offset, length);
        if (null != screened) {
            return screened;
        }

        final int sender = ChunkHeader.sender(buffer, offset);
        final int rs = ChunkHeader.ringStep(buffer, offset);
        if (sender != left || rs < 0 || rs >= ringSteps) {
            return fail("unexpected chunk from rank " + sender + " for ring step " + rs + " (left neighbour is " + left
                    + ", " + ringSteps + " steps)");
        }

        final int block = recvBlock[rs];
        final int blockStart = blockOffset[block];
        final int len = blockLength[block];
        final int total = ChunkHeader.total(buffer, offset);
        if (total != len) {
            return fail("rank " + sender + " sends block " + block + " with " + total
                    + " elements, this rank's partition has " + len);
        }

        final long rel = ChunkHeader.elementOffset(buffer, offset) - blockStart;
        final int count = ChunkHeader.count(buffer, offset);
        if (rel < recvPos[rs]) {
            counters.duplicateChunks().incrementRelease();
            return Action.CONTINUE;
        }
        if (rel > recvPos[rs] || 0 == count || rel + count > len) {
            return fail("chunk [" + rel + ", " + (rel + count) + ") of block " + block + " from rank " + sender
                    + " does not continue at " + recvPos[rs]);
        }

        final int dst = blockStart + (int) rel;
        final int payload = offset + ChunkHeader.LENGTH;
        if (Wire.BFLOAT16 == wire && null != views.termFloats(buffer)) {
            final ShortBuffer src = views.lastTermShorts();
            if (rs < reduceSteps) {
                Kernels.addBf16(src, payload >> 1, dataFloats, dst, count);
            } else {
                Kernels.copyBf16(src, payload >> 1, dataFloats, dst, count);
            }
        } else if (rs < reduceSteps) {
            final FloatBuffer src = Wire.FLOAT32 == wire ? views.termFloats(buffer) : null;
            if (null != src) {
                Kernels.addFloats(src, payload >> 2, dataFloats, dst, count);
            } else {
                Wire.add(buffer, payload, data, dst << 2, count, wire);
            }
        } else {
            Wire.copy(buffer, payload, data, dst << 2, count, wire);
        }

        recvPos[rs] += count;
        received(length);
        return Action.CONTINUE;
    }

    private int send() {
        int work = 0;
        final int fragElems = (publication.maxPayloadLength() - ChunkHeader.LENGTH) / Wire.bytes(wire) & ~7;
        for (int s = 0; s < ringSteps; s++) {
            final int block = sendBlock[s];
            final int len = blockLength[block];
            final int limit = chain ? recvPos[0] : 0 == s ? len : recvPos[s - 1];
            while (sendPos[s] < limit) {
                final int count = Math.min(fragElems, limit - sendPos[s]);
                final int at = blockOffset[block] + sendPos[s];
                if (Wire.BFLOAT16 == wire && s == reduceSteps) {
                    roundToBf16(at, count); // the owner keeps what its peers receive
                }
                if (!sendChunk(s, at, count, len)) {
                    return work;
                }
                sendPos[s] += count;
                work++;
            }
        }
        return work;
    }

    private boolean sendChunk(final int ringStep, final int at, final int count, final int total) {
        final int length = ChunkHeader.LENGTH + count * Wire.bytes(wire);
        if (!tryClaim(publication, right, length)) {
            return false;
        }

        final MutableDirectBuffer buffer = claim.buffer();
        final int offset = claim.offset();
        header.wrap(buffer, offset)
                .write(generation, sequence, step, at, count, rank, kind, wire, ringStep, total, secret);
        final ShortBuffer dst = Wire.BFLOAT16 == wire && null != dataInts ? views.sendShorts(buffer) : null;
        final int dstByte = buffer.wrapAdjustment() + offset + ChunkHeader.LENGTH;
        if (null != dst && (dstByte & 1) == 0) {
            Kernels.encodeBf16(dataInts, at, dst, dstByte >> 1, count);
        } else {
            Wire.encode(data, at << 2, buffer, offset + ChunkHeader.LENGTH, count, wire);
        }
        commit(length);
        return true;
    }

    private void roundToBf16(final int at, final int count) {
        if (null == dataInts) {
            Wire.roundToBf16(data, at << 2, count);
        } else {
            Kernels.roundToBf16(dataInts, at, count);
        }
    }

    private boolean receiveIncomplete() {
        for (int s = 0; s < ringSteps; s++) {
            if (recvPos[s] < blockLength[recvBlock[s]]) {
                return true;
            }
        }
        return false;
    }

    private int mod(final int x) {
        return ((x % size) + size) % size;
    }
}
