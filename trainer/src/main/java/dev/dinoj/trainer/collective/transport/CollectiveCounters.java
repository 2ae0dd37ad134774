package dev.dinoj.trainer.collective.transport;

import org.agrona.BitUtil;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

/**
 * The counters of one rank's collectives, as Agrona {@link AtomicCounter}s allocated by a {@link CountersManager} over
 * buffers of their own (so that they outlive the Aeron client and exist in a world of one). The thread that drives
 * the collectives is their single writer ({@code incrementRelease}); any thread may read them. Labels name the rank
 * and the world generation, as {@code AeronStat} would show them.
 */
public final class CollectiveCounters {
    /** Type id of the chunks-sent counter. */
    public static final int CHUNKS_SENT_TYPE_ID = 1001;
    /** Type id of the bytes-sent counter (chunk headers included). */
    public static final int BYTES_SENT_TYPE_ID = 1002;
    /** Type id of the chunks-received counter (accepted chunks only). */
    public static final int CHUNKS_RECEIVED_TYPE_ID = 1003;
    /** Type id of the bytes-received counter (accepted chunks, headers included). */
    public static final int BYTES_RECEIVED_TYPE_ID = 1004;
    /** Type id of the stale-chunks counter: chunks of an earlier generation or collective, dropped. */
    public static final int STALE_CHUNKS_TYPE_ID = 1005;
    /** Type id of the duplicate-chunks counter: offsets already received, dropped. */
    public static final int DUPLICATE_CHUNKS_TYPE_ID = 1006;
    /** Type id of the back-pressure counter: claims refused with BACK_PRESSURED or ADMIN_ACTION. */
    public static final int BACK_PRESSURE_TYPE_ID = 1007;
    /** Type id of the not-connected counter: claims refused with NOT_CONNECTED. */
    public static final int NOT_CONNECTED_TYPE_ID = 1008;
    /** Type id of the foreign-chunks counter: frames without the world's secret, dropped. */
    public static final int FOREIGN_CHUNKS_TYPE_ID = 1009;

    private static final int MAX_COUNTERS = 9;

    private final CountersManager countersManager;
    private final AtomicCounter chunksSent;
    private final AtomicCounter bytesSent;
    private final AtomicCounter chunksReceived;
    private final AtomicCounter bytesReceived;
    private final AtomicCounter staleChunks;
    private final AtomicCounter duplicateChunks;
    private final AtomicCounter backPressure;
    private final AtomicCounter notConnected;
    private final AtomicCounter foreignChunks;

    /**
     * Allocates the counters of a rank.
     *
     * @param rank       of the communicator
     * @param generation of its world
     */
    public CollectiveCounters(final int rank, final int generation) {
        countersManager = new CountersManager(
                new UnsafeBuffer(BufferUtil.allocateDirectAligned(
                        MAX_COUNTERS * CountersReader.METADATA_LENGTH, BitUtil.CACHE_LINE_LENGTH)),
                new UnsafeBuffer(BufferUtil.allocateDirectAligned(
                        MAX_COUNTERS * CountersReader.COUNTER_LENGTH, BitUtil.CACHE_LINE_LENGTH)));

        final String suffix = ": rank=" + rank + " gen=" + generation;
        chunksSent = countersManager.newCounter("dinoj chunks sent" + suffix, CHUNKS_SENT_TYPE_ID);
        bytesSent = countersManager.newCounter("dinoj bytes sent" + suffix, BYTES_SENT_TYPE_ID);
        chunksReceived = countersManager.newCounter("dinoj chunks received" + suffix, CHUNKS_RECEIVED_TYPE_ID);
        bytesReceived = countersManager.newCounter("dinoj bytes received" + suffix, BYTES_RECEIVED_TYPE_ID);
        staleChunks = countersManager.newCounter("dinoj stale chunks dropped" + suffix, STALE_CHUNKS_TYPE_ID);
        duplicateChunks =
                countersManager.newCounter("dinoj duplicate chunks dropped" + suffix, DUPLICATE_CHUNKS_TYPE_ID);
        backPressure = countersManager.newCounter("dinoj back-pressure events" + suffix, BACK_PRESSURE_TYPE_ID);
        notConnected = countersManager.newCounter("dinoj not-connected events" + suffix, NOT_CONNECTED_TYPE_ID);
        foreignChunks = countersManager.newCounter("dinoj foreign chunks dropped" + suffix, FOREIGN_CHUNKS_TYPE_ID);
    }

    /**
     * Chunks claimed and committed.
     *
     * @return the counter
     */
    public AtomicCounter chunksSent() {
        return chunksSent;
    }

    /**
     * Bytes of the chunks sent, headers included.
     *
     * @return the counter
     */
    public AtomicCounter bytesSent() {
        return bytesSent;
    }

    /**
     * Chunks accepted by a collective.
     *
     * @return the counter
     */
    public AtomicCounter chunksReceived() {
        return chunksReceived;
    }

    /**
     * Bytes of the chunks accepted, headers included.
     *
     * @return the counter
     */
    public AtomicCounter bytesReceived() {
        return bytesReceived;
    }

    /**
     * Chunks of an earlier generation or an earlier collective, dropped.
     *
     * @return the counter
     */
    public AtomicCounter staleChunks() {
        return staleChunks;
    }

    /**
     * Chunks at an offset already received, dropped.
     *
     * @return the counter
     */
    public AtomicCounter duplicateChunks() {
        return duplicateChunks;
    }

    /**
     * Claims refused with {@code BACK_PRESSURED} or {@code ADMIN_ACTION} (retried).
     *
     * @return the counter
     */
    public AtomicCounter backPressure() {
        return backPressure;
    }

    /**
     * Claims refused with {@code NOT_CONNECTED} (retried).
     *
     * @return the counter
     */
    public AtomicCounter notConnected() {
        return notConnected;
    }

    /**
     * Frames of this or a later generation dropped because they do not carry the world's secret, or are too short to
     * carry a chunk header: sent by someone outside the world (chunks of an earlier generation count as stale).
     * Anything but 0 deserves a look at who can reach the rank's inbox.
     *
     * @return the counter
     */
    public AtomicCounter foreignChunks() {
        return foreignChunks;
    }

    /**
     * A reader over all the counters (labels, type ids, values), e.g. to log them.
     *
     * @return the reader
     */
    public CountersReader reader() {
        return countersManager;
    }

    /**
     * The counters as {@code label = value} lines.
     *
     * @return text for a log
     */
    @Override
    public String toString() {
        final StringBuilder sb = new StringBuilder();
        countersManager.forEach((counterId, typeId, keyBuffer, label) -> sb.append(label)
                .append(" = ")
                .append(countersManager.getCounterValue(counterId))
                .append('\n'));
        return sb.toString();
    }
}
