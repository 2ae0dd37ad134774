package dev.dinoj.trainer.train;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Randomness that can be drawn again: while recording it passes every draw through to the wrapped generator and
 * remembers its value; {@link #replay()} then returns a generator that hands out the same values in the same order.
 * Activation checkpointing recomputes a block in the backward with the very stochastic-depth draws of its forward
 * (dinov2 gets the same from {@code torch.utils.checkpoint}, which restores the RNG state).
 *
 * <p>Only the draws a block makes are supported ({@code nextDouble()}, {@code nextInt(bound)}, {@code nextLong()},
 * {@code nextInt()}, {@code nextBoolean()}, {@code nextFloat()}); a replay that is asked for a different kind of draw
 * than was recorded, or for more draws, fails instead of inventing values.
 */
final class ReplayableRandom implements RandomGenerator {

    private static final byte LONG = 0;
    private static final byte INT = 1;
    private static final byte BOUNDED_INT = 2;
    private static final byte DOUBLE = 3;
    private static final byte FLOAT = 4;
    private static final byte BOOLEAN = 5;

    private final RandomGenerator source; // null: replaying
    private byte[] kinds = new byte[16];
    private long[] values = new long[16];
    private int size;
    private int next; // replay position

    /** Records the draws made from {@code source} through this object. */
    ReplayableRandom(RandomGenerator source) {
        this.source = source;
    }

    private ReplayableRandom(byte[] kinds, long[] values, int size) {
        this.source = null;
        this.kinds = kinds;
        this.values = values;
        this.size = size;
    }

    /** A generator that returns the draws recorded so far, in order (independent of this one). */
    ReplayableRandom replay() {
        return new ReplayableRandom(Arrays.copyOf(kinds, size), Arrays.copyOf(values, size), size);
    }

    /** Draws recorded (or, replaying, left to replay). */
    int draws() {
        return source == null ? size - next : size;
    }

    private long draw(byte kind, long recorded) {
        if (size == kinds.length) {
            kinds = Arrays.copyOf(kinds, 2 * size);
            values = Arrays.copyOf(values, 2 * size);
        }
        kinds[size] = kind;
        values[size++] = recorded;
        return recorded;
    }

    private long replayed(byte kind) {
        if (next >= size) {
            throw new IllegalStateException("replay asked for draw " + (next + 1) + " of " + size + " recorded");
        }
        if (kinds[next] != kind) {
            throw new IllegalStateException("replay draw " + next + " is of another kind than the recorded one");
        }
        return values[next++];
    }

    @Override
    public long nextLong() {
        return source == null ? replayed(LONG) : draw(LONG, source.nextLong());
    }

    @Override
    public int nextInt() {
        return (int) (source == null ? replayed(INT) : draw(INT, source.nextInt()));
    }

    @Override
    public int nextInt(int bound) {
        return (int) (source == null ? replayed(BOUNDED_INT) : draw(BOUNDED_INT, source.nextInt(bound)));
    }

    @Override
    public double nextDouble() {
        return Double.longBitsToDouble(
                source == null ? replayed(DOUBLE) : draw(DOUBLE, Double.doubleToRawLongBits(source.nextDouble())));
    }

    @Override
    public float nextFloat() {
        return Float.intBitsToFloat(
                (int) (source == null ? replayed(FLOAT) : draw(FLOAT, Float.floatToRawIntBits(source.nextFloat()))));
    }

    @Override
    public boolean nextBoolean() {
        return (source == null ? replayed(BOOLEAN) : draw(BOOLEAN, source.nextBoolean() ? 1 : 0)) != 0;
    }
}
