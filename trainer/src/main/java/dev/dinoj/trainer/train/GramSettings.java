package dev.dinoj.trainer.train;

import dev.dinoj.trainer.loss.GramLoss;

/**
 * DINOv3 Gram anchoring settings ({@code dinoj.gram.*}, dinov3's {@code gram.*}).
 *
 * @param lossWeight       constant weight of the Gram loss (when {@code schedule} is null)
 * @param schedule         weight schedule replacing {@code lossWeight}, or null
 * @param emaTeacher       the current EMA teacher's patch tokens are the targets (no Gram teacher of its own)
 * @param itLoadEmaTeacher the Gram teacher is a copy of the EMA teacher taken before this step
 * @param repUpdate        refresh the Gram teacher from the EMA teacher every {@code updateFrequency} steps
 * @param updateFrequency  steps between refreshes
 * @param itFirstUpdate    no refresh before this step
 * @param maxUpdates       refreshes at most (0 = unlimited)
 * @param loss             Gram matrix options
 * @param tokensUsed       which patches of the global crops enter the loss
 */
public record GramSettings(double lossWeight, WeightSchedule schedule, boolean emaTeacher, long itLoadEmaTeacher,
                           boolean repUpdate, long updateFrequency, long itFirstUpdate, long maxUpdates,
                           GramLoss.Options loss, Tokens tokensUsed) {

    /** dinov3 {@code gram.tokens_used}. */
    public enum Tokens {
        ALL, MASKED, UNMASKED;

        public static Tokens parse(String s) {
            switch (s) {
                case "all":
                    return ALL;
                case "masked":
                    return MASKED;
                case "unmasked":
                    return UNMASKED;
                default:
                    throw new IllegalArgumentException("unknown value '" + s + "': use all, masked or unmasked");
            }
        }
    }

    /**
     * dinov3's {@code linear_warmup_cosine_decay}: {@code linspace(start, peak, warmup, endpoint=False)}, then a half
     * cosine from {@code peak} to {@code end} over {@code cosineIters} (both ends included), then {@code end}.
     */
    public record WeightSchedule(double start, double peak, double end, long warmupIters, long cosineIters) {
        public double at(long it) {
            if (it < warmupIters) {
                return start + (peak - start) * it / warmupIters;
            }
            long j = it - warmupIters;
            if (j >= cosineIters) {
                return end;
            }
            if (cosineIters == 1) {
                return peak;
            }
            double c = (Math.cos(Math.PI * j / (cosineIters - 1)) + 1) / 2;
            return (peak - end) * c + end;
        }
    }

    public GramSettings {
        if (updateFrequency < 1) {
            throw new IllegalArgumentException("update-frequency must be >= 1");
        }
        if (tokensUsed != Tokens.ALL && loss.imgLevel()) {
            throw new IllegalArgumentException("tokens-used = masked/unmasked needs img-level = false");
        }
        if (emaTeacher && repUpdate) {
            throw new IllegalArgumentException("ema-teacher = true has no Gram teacher to refresh: set rep-update = false");
        }
    }

    /** The Gram loss weight at step {@code it}. */
    public double weight(long it) {
        return schedule == null ? lossWeight : schedule.at(it);
    }

    /** Whether the Gram teacher is refreshed from the EMA teacher right after step {@code it}. */
    public boolean refreshAfter(long it) {
        long j = it + 1;
        return !emaTeacher && repUpdate && j >= itFirstUpdate && j % updateFrequency == 0
                && (maxUpdates == 0 || refreshesBefore(it) < maxUpdates);
    }

    /** Refreshes done after steps 0 … it − 1 (a function of the step, so nothing to checkpoint but the weights). */
    public long refreshesBefore(long it) {
        if (emaTeacher || !repUpdate) {
            return 0;
        }
        long first = Math.max(itFirstUpdate, 1);
        long n = Math.max(0, it / updateFrequency - (first - 1) / updateFrequency);
        return maxUpdates == 0 ? n : Math.min(n, maxUpdates);
    }
}
