package dev.dinoj.testkit;

import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

/** Seeded random arrays for tests: the same seed gives the same values on every JVM. */
public final class RandomArrays {
    private RandomArrays() {}

    /** {@code n} floats uniform in [-1, 1) from {@code new SplittableRandom(seed)}. */
    public static float[] uniform(int n, long seed) {
        return uniform(new SplittableRandom(seed), n);
    }

    /** {@code n} floats uniform in [-scale, scale) from {@code new SplittableRandom(seed)}. */
    public static float[] uniform(int n, double scale, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) ((r.nextDouble() * 2 - 1) * scale);
        }
        return a;
    }

    /** The next {@code n} floats uniform in [-1, 1) of {@code r} (several arrays from one generator). */
    public static float[] uniform(RandomGenerator r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextDouble() * 2 - 1);
        }
        return a;
    }

    /** The next {@code n} standard normal floats of {@code r}. */
    public static float[] gaussian(RandomGenerator r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return a;
    }
}
