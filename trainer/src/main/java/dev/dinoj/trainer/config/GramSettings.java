package dev.dinoj.trainer.config;

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
public record GramSettings(
        double lossWeight,
        WeightSchedule schedule,
        boolean emaTeacher,
        long itLoadEmaTeacher,
        boolean repUpdate,
        long updateFrequency,
        long itFirstUpdate,
        long maxUpdates,
        GramLoss.Options loss,
        Tokens tokensUsed) {

    /** dinov3 {@code gram.tokens_used}. */
    public enum Tokens {
        ALL,
        MASKED,
        UNMASKED;

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
            throw new IllegalArgumentException(
                    "ema-teacher = true has no Gram teacher to refresh: set rep-update = false");
        }
    }

    /** {@code dinoj.gram.*}: the settings, or null when {@code gram.use-loss = false} (still validated). */
    static GramSettings from(ConfigReader r) {
        String g = "dinoj.gram.";
        boolean use = r.bool(g + "use-loss");
        double weight = r.doubleAt(g + "loss-weight", 0, 1e6);
        boolean scheduled = r.bool(g + "loss-weight-schedule.enabled");
        double start = r.doubleAt(g + "loss-weight-schedule.start", 0, 1e6);
        double peak = r.doubleAt(g + "loss-weight-schedule.peak", 0, 1e6);
        double end = r.doubleAt(g + "loss-weight-schedule.end", 0, 1e6);
        long epochLength = r.intAt("dinoj.train.epoch-length", 1, Bounds.EPOCH_LENGTH);
        long total = r.intAt("dinoj.optim.epochs", 1, Bounds.EPOCHS) * epochLength;
        long warmup = r.longAt(g + "loss-weight-schedule.warmup-epochs", 0, Bounds.EPOCHS) * epochLength;
        long cosine = r.longAt(g + "loss-weight-schedule.cosine-epochs", 0, Bounds.EPOCHS) * epochLength;
        if (scheduled && warmup + cosine > total) {
            throw new ConfigError(g + "loss-weight-schedule: warmup-epochs + cosine-epochs exceed dinoj.optim.epochs");
        }
        boolean emaTeacher = r.bool(g + "ema-teacher");
        long itLoad = r.longAt(g + "it-load-ema-teacher", 0, Bounds.STEPS);
        boolean repUpdate = r.bool(g + "rep-update");
        long frequency = r.longAt(g + "update-frequency", 1, Bounds.STEPS);
        long first = r.longAt(g + "it-first-update", 0, Bounds.STEPS);
        long max = r.longAt(g + "max-updates", 0, Bounds.STEPS);
        boolean normalized = r.bool(g + "normalized");
        boolean imgLevel = r.bool(g + "img-level");
        boolean removeNeg = r.bool(g + "remove-neg");
        boolean removeOnlyTeacherNeg = r.bool(g + "remove-only-teacher-neg");
        Tokens tokens;
        try {
            tokens = Tokens.parse(r.string(g + "tokens-used"));
        } catch (IllegalArgumentException e) {
            throw new ConfigError(g + "tokens-used: " + e.getMessage());
        }
        if (!use) {
            return null;
        }
        if (removeNeg && removeOnlyTeacherNeg) {
            throw new ConfigError(g + "remove-neg and " + g + "remove-only-teacher-neg are both true: choose one");
        }
        if (tokens != Tokens.ALL && imgLevel) {
            throw new ConfigError(g + "tokens-used = " + r.string(g + "tokens-used") + " needs " + g
                    + "img-level = false (the selected patches form one batch-level Gram matrix)");
        }
        if (emaTeacher && repUpdate) {
            throw new ConfigError(g + "rep-update = true but " + g
                    + "ema-teacher = true has no Gram teacher to refresh; " + "set " + g + "rep-update = false");
        }
        long cosineIters = cosine > 0 ? cosine : total - warmup;
        return new GramSettings(
                weight,
                scheduled ? new WeightSchedule(start, peak, end, warmup, cosineIters) : null,
                emaTeacher,
                itLoad,
                repUpdate,
                frequency,
                first,
                max,
                new GramLoss.Options(normalized, imgLevel, removeNeg, removeOnlyTeacherNeg),
                tokens);
    }

    /** The Gram loss weight at step {@code it}. */
    public double weight(long it) {
        return schedule == null ? lossWeight : schedule.at(it);
    }

    /** Whether the Gram teacher is refreshed from the EMA teacher right after step {@code it}. */
    public boolean refreshAfter(long it) {
        long j = it + 1;
        return !emaTeacher
                && repUpdate
                && j >= itFirstUpdate
                && j % updateFrequency == 0
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
