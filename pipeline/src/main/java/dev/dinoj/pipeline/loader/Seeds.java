package dev.dinoj.pipeline.loader;

import java.util.SplittableRandom;

/** Derivation of independent random streams from a run seed, a stream kind and an index. */
final class Seeds {
    /** Stream kinds; distinct odd constants keep the streams apart. */
    static final long EPOCH = 0x5851F42D4C957F2DL;

    static final long SAMPLE = 0x14057B7EF767814FL;
    static final long COLLATE = 0x2545F4914F6CDD1DL;

    private Seeds() {}

    /** A generator determined only by {@code (seed, kind, index)}. */
    static SplittableRandom random(long seed, long kind, long index) {
        return new SplittableRandom(mix(seed ^ mix(kind + mix(index))));
    }

    /** SplitMix64's finaliser (Stafford variant 13): a bijective 64-bit mix. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
