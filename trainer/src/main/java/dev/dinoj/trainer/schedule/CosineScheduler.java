package dev.dinoj.trainer.schedule;

/**
 * dinov2's {@code CosineScheduler}: {@code freezeIters} zeros, then a linear warmup
 * ({@code np.linspace(startWarmup, base, warmupIters)}, endpoint included), then a half cosine from {@code base}
 * to {@code final} over the remaining iterations; {@code final} from {@code totalIters} on. Computed on demand, so
 * it is O(1) in memory for any run length.
 */
public final class CosineScheduler {

    private final double base;
    private final double finalValue;
    private final long totalIters;
    private final long warmupIters;
    private final double startWarmup;
    private final long freezeIters;
    private final long zeroUntil;

    public CosineScheduler(
            double base, double finalValue, long totalIters, long warmupIters, double startWarmup, long freezeIters) {
        this(base, finalValue, totalIters, warmupIters, startWarmup, freezeIters, 0);
    }

    private CosineScheduler(
            double base,
            double finalValue,
            long totalIters,
            long warmupIters,
            double startWarmup,
            long freezeIters,
            long zeroUntil) {
        if (totalIters < 0 || warmupIters < 0 || freezeIters < 0 || warmupIters + freezeIters > totalIters) {
            throw new IllegalArgumentException("schedule lengths must satisfy warmup + freeze <= total: total "
                    + totalIters + ", warmup " + warmupIters + ", freeze " + freezeIters);
        }
        this.base = base;
        this.finalValue = finalValue;
        this.totalIters = totalIters;
        this.warmupIters = warmupIters;
        this.startWarmup = startWarmup;
        this.freezeIters = freezeIters;
        this.zeroUntil = zeroUntil;
    }

    public static CosineScheduler constant(double v) {
        return new CosineScheduler(v, v, 0, 0, 0, 0);
    }

    /**
     * The same schedule with its first {@code iters} values overwritten by 0 — how dinov2's train.py freezes the
     * last layer ({@code last_layer_lr_schedule.schedule[:freeze] = 0}).
     */
    public CosineScheduler zeroFirst(long iters) {
        return new CosineScheduler(base, finalValue, totalIters, warmupIters, startWarmup, freezeIters, iters);
    }

    public double get(long it) {
        if (it < zeroUntil && it < totalIters) {
            return 0.0;
        }
        if (it >= totalIters) {
            return finalValue;
        }
        if (it < freezeIters) {
            return 0.0;
        }
        long j = it - freezeIters;
        if (j < warmupIters) {
            return warmupIters == 1 ? startWarmup : startWarmup + (base - startWarmup) * j / (warmupIters - 1);
        }
        j -= warmupIters;
        long len = totalIters - warmupIters - freezeIters;
        return finalValue + 0.5 * (base - finalValue) * (1 + Math.cos(Math.PI * j / len));
    }

    public long totalIters() {
        return totalIters;
    }
}
