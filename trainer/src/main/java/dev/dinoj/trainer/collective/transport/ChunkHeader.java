package dev.dinoj.trainer.collective.transport;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Flyweight over the 48-byte header that starts every chunk of a collective, in front of its payload (little-endian,
 * the machine order of x86-64 and arm64):
 *
 * <pre>
 *   0  int   generation   world generation (a re-formed world never accepts chunks of an older one)
 *   4  int   sequence     collective number within the generation (identical on every rank)
 *   8  long  step         training step the collective belongs to (a consistency check)
 *  16  long  offset       element offset of the payload inside the whole vector
 *  24  int   count        elements in this chunk
 *  28  short sender       rank of the sender
 *  30  byte  kind         which collective (ALL_REDUCE, REDUCE_SCATTER, ...)
 *  31  byte  wire         element encoding: 0 float32, 1 bfloat16, 2 float64
 *  32  int   ringStep     step of the ring algorithm (0 for non-ring collectives)
 *  36  int   total        elements of the block or vector the chunk belongs to (a consistency check)
 *  40  long  secret       the world's secret: a rank drops every chunk that does not carry it
 *  48  ...   payload
 * </pre>
 *
 * <p>The secret is drawn at random for each world (generation) by whoever forms it and handed to its ranks over a
 * private channel, never on the wire of the collectives before the world exists. It keeps out chunks of anyone who
 * cannot read the world's traffic; it travels in clear, so it does not keep out an observer of that traffic, and it
 * is no MAC over the payload (docs/COLLECTIVES.md, "Who can send a chunk").
 */
public final class ChunkHeader {
    public static final int GENERATION_OFFSET = 0;
    public static final int SEQUENCE_OFFSET = 4;
    public static final int STEP_OFFSET = 8;
    public static final int OFFSET_OFFSET = 16;
    public static final int COUNT_OFFSET = 24;
    public static final int SENDER_OFFSET = 28;
    public static final int KIND_OFFSET = 30;
    public static final int WIRE_OFFSET = 31;
    public static final int RING_STEP_OFFSET = 32;
    public static final int TOTAL_OFFSET = 36;
    public static final int SECRET_OFFSET = 40;

    /** Header length; the payload starts here (8-byte aligned inside an Aeron frame). */
    public static final int LENGTH = 48;

    public static final byte KIND_ALL_REDUCE = 1;
    public static final byte KIND_REDUCE_SCATTER = 2;
    public static final byte KIND_ALL_GATHER = 3;
    public static final byte KIND_SMALL_ALL_REDUCE = 4;
    public static final byte KIND_BROADCAST = 5;
    public static final byte KIND_BARRIER = 6;

    private MutableDirectBuffer buffer;
    private int offset;

    /**
     * Points the flyweight at a header.
     *
     * @param buffer holding the header
     * @param offset of the header in the buffer
     * @return this
     */
    public ChunkHeader wrap(final MutableDirectBuffer buffer, final int offset) {
        this.buffer = buffer;
        this.offset = offset;
        return this;
    }

    /**
     * Writes every field.
     *
     * @return this
     */
    public ChunkHeader write(
            final int generation,
            final int sequence,
            final long step,
            final long elementOffset,
            final int count,
            final int sender,
            final byte kind,
            final byte wire,
            final int ringStep,
            final int total,
            final long secret) {
        buffer.putInt(offset + GENERATION_OFFSET, generation);
        buffer.putInt(offset + SEQUENCE_OFFSET, sequence);
        buffer.putLong(offset + STEP_OFFSET, step);
        buffer.putLong(offset + OFFSET_OFFSET, elementOffset);
        buffer.putInt(offset + COUNT_OFFSET, count);
        buffer.putShort(offset + SENDER_OFFSET, (short) sender);
        buffer.putByte(offset + KIND_OFFSET, kind);
        buffer.putByte(offset + WIRE_OFFSET, wire);
        buffer.putInt(offset + RING_STEP_OFFSET, ringStep);
        buffer.putInt(offset + TOTAL_OFFSET, total);
        buffer.putLong(offset + SECRET_OFFSET, secret);
        return this;
    }

    public static int generation(final DirectBuffer buffer, final int offset) {
        return buffer.getInt(offset + GENERATION_OFFSET);
    }

    public static int sequence(final DirectBuffer buffer, final int offset) {
        return buffer.getInt(offset + SEQUENCE_OFFSET);
    }

    public static long step(final DirectBuffer buffer, final int offset) {
        return buffer.getLong(offset + STEP_OFFSET);
    }

    public static long elementOffset(final DirectBuffer buffer, final int offset) {
        return buffer.getLong(offset + OFFSET_OFFSET);
    }

    public static int count(final DirectBuffer buffer, final int offset) {
        return buffer.getInt(offset + COUNT_OFFSET);
    }

    public static int sender(final DirectBuffer buffer, final int offset) {
        return buffer.getShort(offset + SENDER_OFFSET);
    }

    public static byte kind(final DirectBuffer buffer, final int offset) {
        return buffer.getByte(offset + KIND_OFFSET);
    }

    public static byte wire(final DirectBuffer buffer, final int offset) {
        return buffer.getByte(offset + WIRE_OFFSET);
    }

    public static int ringStep(final DirectBuffer buffer, final int offset) {
        return buffer.getInt(offset + RING_STEP_OFFSET);
    }

    public static int total(final DirectBuffer buffer, final int offset) {
        return buffer.getInt(offset + TOTAL_OFFSET);
    }

    public static long secret(final DirectBuffer buffer, final int offset) {
        return buffer.getLong(offset + SECRET_OFFSET);
    }

    /** A readable name of a kind byte (error messages only). */
    public static String kindName(final byte kind) {
        switch (kind) {
            case KIND_ALL_REDUCE:
                return "all-reduce";
            case KIND_REDUCE_SCATTER:
                return "reduce-scatter";
            case KIND_ALL_GATHER:
                return "all-gather";
            case KIND_SMALL_ALL_REDUCE:
                return "small all-reduce";
            case KIND_BROADCAST:
                return "broadcast";
            case KIND_BARRIER:
                return "barrier";
            default:
                return "kind " + kind;
        }
    }
}
