package dev.dinoj.evaluation.metrics;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A seeded split of {@code n} samples into a training part and a held-out part, as dinov2's log-regression does
 * ({@code torch.manual_seed(0); randperm(n)}; the first {@code n / 10} are held out): here a Fisher–Yates
 * permutation from {@link SplittableRandom}{@code (seed)}, the first {@code floor(n · fraction)} held out. Both
 * parts are returned in ascending index order.
 *
 * @param train indices kept for training
 * @param heldOut indices held out for choosing hyper-parameters
 */
public record HoldOut(int[] train, int[] heldOut) {

    /**
     * Splits {@code [0, n)}.
     *
     * @param n the number of samples
     * @param fraction the held-out share, in (0, 1)
     * @param seed the permutation seed
     * @return the split; both parts non-empty
     */
    public static HoldOut of(int n, double fraction, long seed) {
        if (!(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("held-out fraction must be in (0, 1): " + fraction);
        }
        int held = (int) Math.floor(n * fraction);
        if (held < 1 || held >= n) {
            throw new IllegalArgumentException("cannot hold out " + fraction + " of " + n + " samples: need at least "
                    + "one sample on each side");
        }
        int[] perm = permutation(n, seed);
        int[] h = Arrays.copyOfRange(perm, 0, held);
        int[] t = Arrays.copyOfRange(perm, held, n);
        Arrays.sort(h);
        Arrays.sort(t);
        return new HoldOut(t, h);
    }

    /**
     * A seeded permutation of {@code [0, n)}.
     *
     * @param n the length
     * @param seed the seed
     * @return the permutation
     */
    public static int[] permutation(int n, long seed) {
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        SplittableRandom rng = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int tmp = perm[i];
            perm[i] = perm[j];
            perm[j] = tmp;
        }
        return perm;
    }
}
