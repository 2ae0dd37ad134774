package dev.dinoj.pipeline.loader;

/**
 * An infinite, deterministic stream of dataset indices: epoch after epoch, each a permutation of
 * {@code 0 .. n-1} that depends only on {@code (seed, epoch)} (Fisher–Yates with a generator derived from
 * both). Its whole state is {@link #position()}, the number of indices handed out, so {@link #seek} restores
 * it exactly. Partial last batches are the caller's business (the stream crosses epoch boundaries).
 *
 * <p>Not thread-safe: one consumer (the loader's dispatching thread).
 */
public final class EpochSampler {
    private final int size;
    private final long seed;
    private long position;
    private long cachedEpoch = -1;
    private int[] permutation;

    /**
     * @param size number of items (dataset size), &gt; 0
     * @param seed run seed
     */
    public EpochSampler(int size, long seed) {
        if (size <= 0) {
            throw new IllegalArgumentException("sampler needs a non-empty dataset: size " + size);
        }
        this.size = size;
        this.seed = seed;
    }

    /** The next index; advances {@link #position()} by one. */
    public int next() {
        long epoch = position / size;
        if (epoch != cachedEpoch) {
            permutation = permutation(size, seed, epoch);
            cachedEpoch = epoch;
        }
        return permutation[(int) (position++ % size)];
    }

    /** Indices handed out so far (epoch = position / size). */
    public long position() {
        return position;
    }

    /** Resumes at {@code position}: the next {@link #next()} returns what it returned there the first time. */
    public void seek(long position) {
        if (position < 0) {
            throw new IllegalArgumentException("position must be >= 0: " + position);
        }
        this.position = position;
    }

    /** Dataset size. */
    public int size() {
        return size;
    }

    /** The order of epoch {@code epoch}: a permutation of {@code 0 .. size-1} determined by {@code (seed, epoch)}. */
    public static int[] permutation(int size, long seed, long epoch) {
        int[] p = new int[size];
        for (int i = 0; i < size; i++) {
            p[i] = i;
        }
        var rng = Seeds.random(seed, Seeds.EPOCH, epoch);
        for (int i = size - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
