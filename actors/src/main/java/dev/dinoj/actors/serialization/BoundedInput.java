package dev.dinoj.actors.serialization;

import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.io.Input;

/**
 * Kryo input over one received message that refuses lengths the message cannot hold: every array element and every
 * string character takes at least one byte on the wire, so a claimed length above the bytes left is a forged or
 * corrupt message, refused before anything is allocated (a 5-byte message can no longer ask for gigabytes).
 */
final class BoundedInput extends Input {

    BoundedInput(byte[] bytes) {
        super(bytes);
    }

    /** Refuses {@code length} elements of at least one byte each when fewer bytes are left. */
    void checkLength(long length, String what) {
        if (length < 0 || length > limit - position) {
            throw new KryoException(what + " of " + length + " elements in a message with " + (limit - position)
                    + " bytes left: refused");
        }
    }

    @Override
    public byte[] readBytes(int length) {
        checkLength(length, "byte array");
        return super.readBytes(length);
    }

    @Override
    public int[] readInts(int length) {
        checkLength(length, "int array");
        return super.readInts(length);
    }

    @Override
    public int[] readInts(int length, boolean optimizePositive) {
        checkLength(length, "int array");
        return super.readInts(length, optimizePositive);
    }

    @Override
    public long[] readLongs(int length) {
        checkLength(length, "long array");
        return super.readLongs(length);
    }

    @Override
    public long[] readLongs(int length, boolean optimizePositive) {
        checkLength(length, "long array");
        return super.readLongs(length, optimizePositive);
    }

    @Override
    public float[] readFloats(int length) {
        checkLength(length, "float array");
        return super.readFloats(length);
    }

    @Override
    public double[] readDoubles(int length) {
        checkLength(length, "double array");
        return super.readDoubles(length);
    }

    @Override
    public short[] readShorts(int length) {
        checkLength(length, "short array");
        return super.readShorts(length);
    }

    @Override
    public char[] readChars(int length) {
        checkLength(length, "char array");
        return super.readChars(length);
    }

    @Override
    public boolean[] readBooleans(int length) {
        checkLength(length, "boolean array");
        return super.readBooleans(length);
    }

    @Override
    public String readString() {
        checkStringLength();
        return super.readString();
    }

    @Override
    public StringBuilder readStringBuilder() {
        checkStringLength();
        return super.readStringBuilder();
    }

    /** A UTF-8 string starts with its character count (+1; 0 = null): peeked, checked, then read as usual. */
    private void checkStringLength() {
        if (position < limit && readVarIntFlag()) {
            int start = position;
            int count = readVarIntFlag(true);
            position = start;
            if (count > 0) { // 0 = null
                checkLength(count - 1L, "string");
            }
        }
    }
}
