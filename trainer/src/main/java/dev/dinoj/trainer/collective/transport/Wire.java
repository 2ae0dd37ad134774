package dev.dinoj.trainer.collective.transport;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * Element encodings of chunk payloads and the loops that move them between a vector and an Aeron frame. The vector
 * side is always float32 (or float64 for the small all-reduce); bfloat16 halves the bytes on the wire and is
 * rounded to nearest even. No allocation, no boxing.
 */
public final class Wire {
    public static final byte FLOAT32 = 0;
    public static final byte BFLOAT16 = 1;
    public static final byte FLOAT64 = 2;

    private Wire() {}

    /**
     * Bytes per element of an encoding.
     *
     * @param wire encoding
     * @return 4, 2 or 8
     */
    public static int bytes(final byte wire) {
        switch (wire) {
            case FLOAT32:
                return 4;
            case BFLOAT16:
                return 2;
            case FLOAT64:
                return 8;
            default:
                throw new IllegalArgumentException("unknown wire encoding " + wire);
        }
    }

    /**
     * float32 bits to bfloat16 bits, round to nearest even; NaN stays a (quiet) NaN.
     *
     * @param bits of a float
     * @return bf16 bits in the low 16 bits
     */
    public static int toBf16(final int bits) {
        if ((bits & 0x7FFF_FFFF) > 0x7F80_0000) {
            return ((bits >>> 16) | 0x40) & 0xFFFF;
        }
        return ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16) & 0xFFFF;
    }

    /**
     * bfloat16 bits to float.
     *
     * @param bf16 bits in the low 16 bits
     * @return the float
     */
    public static float fromBf16(final int bf16) {
        return Float.intBitsToFloat((bf16 & 0xFFFF) << 16);
    }

    /**
     * Rounds float32 values in place to the nearest bfloat16 (so that the owner of a block holds exactly what its
     * peers receive).
     *
     * @param data  the vector
     * @param index byte index of the first element
     * @param count elements
     */
    public static void roundToBf16(final MutableDirectBuffer data, final int index, final int count) {
        for (int i = 0, at = index; i < count; i++, at += 4) {
            data.putInt(at, toBf16(data.getInt(at)) << 16);
        }
    }

    /**
     * Encodes float32 elements of a vector into a frame.
     *
     * @param src      the vector
     * @param srcIndex byte index of the first element in the vector
     * @param dst      the frame buffer
     * @param dstIndex byte index of the payload
     * @param count    elements
     * @param wire     {@link #FLOAT32} or {@link #BFLOAT16}
     */
    public static void encode(
            final DirectBuffer src,
            final int srcIndex,
            final MutableDirectBuffer dst,
            final int dstIndex,
            final int count,
            final byte wire) {
        if (FLOAT32 == wire) {
            dst.putBytes(dstIndex, src, srcIndex, count << 2);
        } else {
            for (int i = 0, s = srcIndex, d = dstIndex; i < count; i++, s += 4, d += 2) {
                dst.putShort(d, (short) toBf16(src.getInt(s)));
            }
        }
    }

    /**
     * Adds encoded elements of a frame into float32 elements of a vector.
     *
     * @param src      the frame buffer
     * @param srcIndex byte index of the payload
     * @param dst      the vector
     * @param dstIndex byte index of the first element in the vector
     * @param count    elements
     * @param wire     {@link #FLOAT32} or {@link #BFLOAT16}
     */
    public static void add(
            final DirectBuffer src,
            final int srcIndex,
            final MutableDirectBuffer dst,
            final int dstIndex,
            final int count,
            final byte wire) {
        if (FLOAT32 == wire) {
            for (int i = 0, s = srcIndex, d = dstIndex; i < count; i++, s += 4, d += 4) {
                dst.putFloat(d, dst.getFloat(d) + src.getFloat(s));
            }
        } else {
            for (int i = 0, s = srcIndex, d = dstIndex; i < count; i++, s += 2, d += 4) {
                dst.putFloat(d, dst.getFloat(d) + fromBf16(src.getShort(s)));
            }
        }
    }

    /**
     * Copies (decodes) elements of a frame over float32 elements of a vector.
     *
     * @param src      the frame buffer
     * @param srcIndex byte index of the payload
     * @param dst      the vector
     * @param dstIndex byte index of the first element in the vector
     * @param count    elements
     * @param wire     {@link #FLOAT32} or {@link #BFLOAT16}
     */
    public static void copy(
            final DirectBuffer src,
            final int srcIndex,
            final MutableDirectBuffer dst,
            final int dstIndex,
            final int count,
            final byte wire) {
        if (FLOAT32 == wire) {
            dst.putBytes(dstIndex, src, srcIndex, count << 2);
        } else {
            for (int i = 0, s = srcIndex, d = dstIndex; i < count; i++, s += 2, d += 4) {
                dst.putFloat(d, fromBf16(src.getShort(s)));
            }
        }
    }
}
