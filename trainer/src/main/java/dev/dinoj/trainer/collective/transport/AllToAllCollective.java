package dev.dinoj.trainer.collective.transport;

import io.aeron.ExclusivePublication;
import io.aeron.Subscription;
import io.aeron.logbuffer.Header;
import java.util.List;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * One all-to-all round of float64 vectors as a preallocated state machine: every rank sends its vector to every peer
 * (in chunks, over the publication to that peer) and receives every peer's into a staging row, so that each rank can
 * reduce the N rows in rank order and get bitwise the same result ({@link #reduce(byte, double[])}). The small
 * all-reduce and the barrier (an empty vector) are this round. Latency-optimised: one message per peer for vectors
 * up to a frame.
 *
 * <p>Chunks arrive on this rank's inbox subscriptions (IPC and/or UDP), from any peer, and from anyone else who can
 * reach the inbox: their sender field is believed only once the chunk carries the world's secret
 * ({@link ChunkCollective#screen}). The staging rows grow only when a vector is larger than any before; nothing is
 * allocated per chunk.
 */
public final class AllToAllCollective extends ChunkCollective {
    private final ExclusivePublication[] publications;
    private final Subscription[] inboxes;
    private final int[] sendPos;
    private final int[] recvPos;
    private final int[] sentChunks;
    private final int[] recvChunks;
    private double[][] staging;
    private double[] values;
    private int count;

    /**
     * @param rank         this rank
     * @param size         ranks in the world (at least 2)
     * @param generation   of the world
     * @param secret       of the world (in every chunk)
     * @param counters     where to count
     * @param publications to every peer, by rank (this rank's entry unused)
     * @param inboxes      this rank's inbox subscriptions; null entries are skipped
     */
    public AllToAllCollective(
            final int rank,
            final int size,
            final int generation,
            final long secret,
            final CollectiveCounters counters,
            final ExclusivePublication[] publications,
            final Subscription... inboxes) {
        super(rank, size, generation, secret, counters);
        this.publications = publications;
        int n = 0;
        for (final Subscription inbox : inboxes) {
            n += null == inbox ? 0 : 1;
        }
        this.inboxes = new Subscription[n];
        n = 0;
        for (final Subscription inbox : inboxes) {
            if (null != inbox) {
                this.inboxes[n++] = inbox;
            }
        }
        this.sendPos = new int[size];
        this.recvPos = new int[size];
        this.sentChunks = new int[size];
        this.recvChunks = new int[size];
        this.staging = new double[size][0];
    }

    /**
     * Starts a round: {@code values[0..count)} goes to every peer.
     *
     * @param sequence collective number
     * @param step     training step tag
     * @param kind     {@link ChunkHeader#KIND_SMALL_ALL_REDUCE} or {@link ChunkHeader#KIND_BARRIER}
     * @param values   this rank's vector (read while the round runs)
     * @param count    elements (0 for a barrier)
     */
    public void begin(final int sequence, final long step, final byte kind, final double[] values, final int count) {
        begin(sequence, step, kind, Wire.FLOAT64);
        this.values = values;
        this.count = count;
        if (staging[0].length < count) {
            staging = new double[size][Math.max(count, 2 * staging[0].length)];
        }
        System.arraycopy(values, 0, staging[rank], 0, count);
        for (int p = 0; p < size; p++) {
            final boolean self = p == rank;
            sendPos[p] = self ? count : 0;
            recvPos[p] = self ? count : 0;
            sentChunks[p] = self ? 1 : 0;
            recvChunks[p] = self ? 1 : 0;
        }
    }

    /**
     * Reduces the N vectors of the completed round in rank order.
     *
     * @param op  {@link Kernels#OP_SUM}, {@link Kernels#OP_MAX} or {@link Kernels#OP_MIN}
     * @param dst receives the first {@code count} results (not a staging row)
     */
    public void reduce(final byte op, final double[] dst) {
        Kernels.reduce(staging, size, count, op, dst);
    }

    /** {@inheritDoc} */
    public int doWork() {
        int work = 0;
        for (int i = 1; i < size; i++) {
            work += send((rank + i) % size);
        }
        for (final Subscription inbox : inboxes) {
            work += inbox.controlledPoll(this, FRAGMENT_LIMIT);
        }
        return work;
    }

    /** {@inheritDoc} */
    public boolean isComplete() {
        for (int p = 0; p < size; p++) {
            if (0 == sentChunks[p] || sendPos[p] < count || 0 == recvChunks[p] || recvPos[p] < count) {
                return false;
            }
        }
        return true;
    }

    /** {@inheritDoc} */
    public void waitingFor(final int closedPeer, final List<Integer> peers) {
        for (int p = 0; p < size; p++) {
            final boolean recvMissing = 0 == recvChunks[p] || recvPos[p] < count;
            final boolean sendMissing = (0 == sentChunks[p] || sendPos[p] < count) && blocked[p];
            if (p != rank && (recvMissing || sendMissing)) {
                peers.add(p);
            }
        }
    }

    /** {@inheritDoc} */
    public String name() {
        return ChunkHeader.kindName(kind);
    }

    /**
     * Accepts the next chunk of a peer's vector into its staging row.
     */
    public Action onFragment(final DirectBuffer buffer, final int offset, final int length, final Header header) {
        final Action screened = screen(buffer, offset, length);
        if (null != screened) {
            return screened;
        }

        final int sender = ChunkHeader.sender(buffer, offset);
        if (sender < 0 || sender >= size || sender == rank) {
            return fail("chunk from unknown rank " + sender);
        }

        final int total = ChunkHeader.total(buffer, offset);
        if (total != count) {
            return fail("rank " + sender + " reduces " + total + " elements, this rank " + count);
        }

        final long at = ChunkHeader.elementOffset(buffer, offset);
        final int chunkCount = ChunkHeader.count(buffer, offset);
        if (at < recvPos[sender] || (recvChunks[sender] > 0 && at == recvPos[sender] && 0 == chunkCount)) {
            counters.duplicateChunks().incrementRelease();
            return Action.CONTINUE;
        }
        if (at > recvPos[sender] || at + chunkCount > count) {
            return fail("chunk [" + at + ", " + (at + chunkCount) + ") from rank " + sender + " does not continue at "
                    + recvPos[sender]);
        }

        final double[] dst = staging[sender];
        for (int i = 0, s = offset + ChunkHeader.LENGTH; i < chunkCount; i++, s += 8) {
            dst[(int) at + i] = buffer.getDouble(s);
        }
        recvPos[sender] += chunkCount;
        recvChunks[sender]++;
        received(length);
        return Action.CONTINUE;
    }

    private int send(final int peer) {
        int work = 0;
        final ExclusivePublication publication = publications[peer];
        final int fragElems = (publication.maxPayloadLength() - ChunkHeader.LENGTH) / 8;
        while (0 == sentChunks[peer] || sendPos[peer] < count) {
            final int chunkCount = Math.min(fragElems, count - sendPos[peer]);
            final int length = ChunkHeader.LENGTH + chunkCount * 8;
            if (!tryClaim(publication, peer, length)) {
                return work;
            }

            final MutableDirectBuffer buffer = claim.buffer();
            final int offset = claim.offset();
            final int at = sendPos[peer];
            header.wrap(buffer, offset)
                    .write(generation, sequence, step, at, chunkCount, rank, kind, Wire.FLOAT64, 0, count, secret);
            for (int i = 0, d = offset + ChunkHeader.LENGTH; i < chunkCount; i++, d += 8) {
                buffer.putDouble(d, values[at + i]);
            }
            commit(length);
            sendPos[peer] += chunkCount;
            sentChunks[peer]++;
            work++;
        }
        return work;
    }
}
