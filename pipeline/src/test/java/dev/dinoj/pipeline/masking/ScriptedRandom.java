package dev.dinoj.pipeline.masking;

import java.util.random.RandomGenerator;

/**
 * The scripted stream of {@code golden/make_masking.py}: draw {@code k} is {@code u_k = (splitmix64(k) >>> 11)
 * * 2^-53}; {@code nextDouble()} returns it and {@code nextInt(bound)} returns {@code (int) (u_k * bound)}, the
 * same as the script's {@code random.uniform} and {@code random.randint}.
 */
final class ScriptedRandom implements RandomGenerator {
    private long k;

    long draws() {
        return k;
    }

    @Override
    public double nextDouble() {
        long z = (k++ + 1) * 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (z >>> 11) * 0x1.0p-53;
    }

    @Override
    public int nextInt(int bound) {
        return (int) (nextDouble() * bound);
    }

    @Override
    public long nextLong() {
        throw new UnsupportedOperationException("only nextDouble() and nextInt(bound) are scripted");
    }
}
