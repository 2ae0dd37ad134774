package dev.dinoj.trainer.collective.transport;

import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.aeron.logbuffer.BufferClaim;
import io.aeron.logbuffer.ControlledFragmentHandler;
import java.util.Arrays;
import java.util.List;
import org.agrona.DirectBuffer;

/**
 * A collective algorithm as a preallocated state machine over chunks: {@code begin…} sets up one collective,
 * {@link #doWork()} sends what can be sent and polls what has arrived (a work count, as an Agrona {@code Agent}'s
 * duty cycle expects), until {@link #isComplete()} or {@link #failure()}. One duty cycle drives every collective.
 *
 * <p>This base screens every fragment against the collective in progress ({@link #screen}): a frame shorter than a
 * header or a chunk without the world's secret is foreign (dropped and counted: nothing else of it is read, so an
 * outsider can neither add to a sum nor fail a collective); a chunk of an earlier generation or collective is stale
 * (dropped and counted), one of a later collective stays in the log ({@code ABORT}, which back-pressures its sender)
 * until this rank gets there, and one that contradicts this rank's collective (kind, step, wire format, length) fails
 * it. The subclass checks what is particular to its algorithm. Failures are recorded as text, never thrown into
 * Aeron; nothing is allocated per fragment except on failure.
 *
 * <p>Not thread-safe: one thread at a time drives a collective.
 */
public abstract class ChunkCollective implements ControlledFragmentHandler {
    /** Fragments polled per {@link #doWork()} and image. */
    public static final int FRAGMENT_LIMIT = 64;

    /** This rank. */
    protected final int rank;
    /** Ranks in the world. */
    protected final int size;
    /** Generation of the world. */
    protected final int generation;
    /** The world's secret, written into every chunk sent and required of every chunk received. */
    protected final long secret;
    /** Where sends, receipts and drops are counted. */
    protected final CollectiveCounters counters;
    /** The claim every chunk is written through. */
    protected final BufferClaim claim = new BufferClaim();
    /** The header flyweight chunks are written with. */
    protected final ChunkHeader header = new ChunkHeader();
    /** Per peer: whether the last claim towards it was refused (for timeout reports). */
    protected final boolean[] blocked;

    /** Collective number of the collective in progress. */
    protected int sequence;
    /** Training step of the collective in progress. */
    protected long step;
    /** {@code ChunkHeader.KIND_*} of the collective in progress. */
    protected byte kind;
    /** {@code Wire} encoding of the collective in progress. */
    protected byte wire;

    private String failure;

    /**
     * @param rank       this rank
     * @param size       ranks in the world
     * @param generation of the world
     * @param secret     of the world
     * @param counters   where to count
     */
    protected ChunkCollective(
            final int rank,
            final int size,
            final int generation,
            final long secret,
            final CollectiveCounters counters) {
        this.rank = rank;
        this.size = size;
        this.generation = generation;
        this.secret = secret;
        this.counters = counters;
        this.blocked = new boolean[size];
    }

    /**
     * Sends what can be sent and polls what has arrived, without blocking.
     *
     * @return work done: chunks sent plus fragments polled (0 = idle)
     */
    public abstract int doWork();

    /**
     * Whether the collective in progress has sent and received everything.
     *
     * @return true when done
     */
    public abstract boolean isComplete();

    /**
     * A peer whose stream closed while this collective still needs it (the collective cannot complete).
     *
     * @return its rank, or -1
     */
    public int closedPeer() {
        return -1;
    }

    /**
     * The peers this collective waits for: what it has not received from, or cannot send to.
     *
     * @param closedPeer the result of {@link #closedPeer()}
     * @param peers      filled with ranks
     */
    public abstract void waitingFor(int closedPeer, List<Integer> peers);

    /**
     * A readable name of the collective in progress (messages only).
     *
     * @return e.g. {@code "all-reduce"}
     */
    public abstract String name();

    /**
     * Why the collective in progress failed.
     *
     * @return the reason, or null while it has not
     */
    public final String failure() {
        return failure;
    }

    /**
     * @return collective number of the collective in progress
     */
    public final int sequence() {
        return sequence;
    }

    /**
     * @return training step of the collective in progress
     */
    public final long step() {
        return step;
    }

    /**
     * Starts the state common to every collective.
     *
     * @param sequence collective number (the same on every rank)
     * @param step     training step tag
     * @param kind     {@code ChunkHeader.KIND_*}
     * @param wire     {@code Wire} encoding
     */
    protected final void begin(final int sequence, final long step, final byte kind, final byte wire) {
        this.sequence = sequence;
        this.step = step;
        this.kind = kind;
        this.wire = wire;
        this.failure = null;
        Arrays.fill(blocked, false);
    }

    /**
     * Records the failure of the collective in progress.
     *
     * @param reason readable text
     * @return {@code BREAK}, to stop the poll
     */
    protected final Action fail(final String reason) {
        failure = reason;
        return Action.BREAK;
    }

    /**
     * Progress of this rank's collectives: chunks sent plus chunks accepted (not those dropped), so that a stream of
     * foreign or stale chunks does not keep a stalled collective from timing out.
     *
     * @return a count that grows with every chunk sent or accepted
     */
    public final long progress() {
        return counters.chunksSent().getPlain() + counters.chunksReceived().getPlain();
    }

    /**
     * The checks every chunk passes, whatever the algorithm. The secret comes first: a chunk without it is dropped
     * before any other field is trusted (only an earlier generation is told apart, as stale, since an earlier world
     * had another secret).
     *
     * @param buffer holding the fragment
     * @param offset of the chunk header
     * @param length of the fragment
     * @return null to accept; {@code CONTINUE} to drop (foreign or stale, counted); {@code ABORT} to keep it in the
     * log for a later collective; {@code BREAK} after recording a failure
     */
    protected final Action screen(final DirectBuffer buffer, final int offset, final int length) {
        if (length < ChunkHeader.LENGTH) {
            counters.foreignChunks().incrementRelease(); // too short to carry the secret
            return Action.CONTINUE;
        }

        final int chunkGeneration = ChunkHeader.generation(buffer, offset);
        if (chunkGeneration < generation) {
            counters.staleChunks().incrementRelease();
            return Action.CONTINUE;
        }
        if (ChunkHeader.secret(buffer, offset) != secret) {
            counters.foreignChunks().incrementRelease();
            return Action.CONTINUE;
        }
        if (chunkGeneration != generation) {
            return fail("a chunk of generation " + chunkGeneration + " arrived in generation " + generation);
        }

        final int chunkSequence = ChunkHeader.sequence(buffer, offset);
        if (chunkSequence < sequence) {
            counters.staleChunks().incrementRelease();
            return Action.CONTINUE;
        }
        if (chunkSequence > sequence) {
            return Action.ABORT;
        }

        final byte chunkKind = ChunkHeader.kind(buffer, offset);
        final int sender = ChunkHeader.sender(buffer, offset);
        if (chunkKind != kind) {
            return fail(
                    "rank " + sender + " runs a " + ChunkHeader.kindName(chunkKind) + " as collective #" + chunkSequence
                            + " where this rank runs a " + ChunkHeader.kindName(kind)
                            + " (ranks must call the same collectives in order)");
        }

        final long chunkStep = ChunkHeader.step(buffer, offset);
        if (chunkStep != step) {
            return fail("rank " + sender + " is at step " + chunkStep + ", this rank at step " + step);
        }

        final int count = ChunkHeader.count(buffer, offset);
        final byte chunkWire = ChunkHeader.wire(buffer, offset);
        if (chunkWire != wire) {
            return fail("rank " + sender + " sends wire format " + chunkWire + ", this rank expects " + wire);
        }
        if (count < 0 || length != ChunkHeader.LENGTH + count * Wire.bytes(chunkWire)) {
            return fail("a chunk of rank " + sender + " has " + length + " bytes for " + count + " elements");
        }

        return null;
    }

    /**
     * Claims a frame towards a peer; on refusal counts it, marks the peer blocked and records a failure if the
     * publication can never take it.
     *
     * @param publication to the peer
     * @param peer        its rank
     * @param length      of the frame
     * @return true when {@link #claim} holds the frame
     */
    protected final boolean tryClaim(final ExclusivePublication publication, final int peer, final int length) {
        final long result = publication.tryClaim(length, claim);
        if (result > 0) {
            blocked[peer] = false;
            return true;
        }

        blocked[peer] = true;
        if (Publication.BACK_PRESSURED == result || Publication.ADMIN_ACTION == result) {
            counters.backPressure().incrementRelease();
        } else if (Publication.NOT_CONNECTED == result) {
            counters.notConnected().incrementRelease();
        } else if (Publication.CLOSED == result) {
            fail("the publication to rank " + peer + " is closed (media driver gone?)");
        } else if (Publication.MAX_POSITION_EXCEEDED == result) {
            fail("the publication to rank " + peer + " reached its maximum position; re-form the world");
        }

        return false;
    }

    /**
     * Commits the claimed frame and counts it.
     *
     * @param length of the frame
     */
    protected final void commit(final int length) {
        claim.commit();
        counters.chunksSent().incrementRelease();
        counters.bytesSent().getAndAddRelease(length);
    }

    /**
     * Counts an accepted chunk.
     *
     * @param length of the fragment
     */
    protected final void received(final int length) {
        counters.chunksReceived().incrementRelease();
        counters.bytesReceived().getAndAddRelease(length);
    }
}
