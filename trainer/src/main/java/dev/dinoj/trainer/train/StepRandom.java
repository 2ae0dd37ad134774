package dev.dinoj.trainer.train;

import java.util.SplittableRandom;

/** Randomness of one training step, derived only from (seed, step) so a resumed run draws the same numbers. */
public final class StepRandom {

    private StepRandom() {}

    public static SplittableRandom forStep(long seed, long step) {
        return new SplittableRandom(mix(seed * 0x9E3779B97F4A7C15L + step + 0x632BE59BD9B4E019L));
    }

    /** SplitMix64 finaliser. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
