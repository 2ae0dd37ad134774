package dev.dinoj.trainer.train;

import dev.dinoj.trainer.config.TrainSettings;

/**
 * Fits a run's schedule to its wall-clock budget ({@code train.fit-schedule-to-time} with {@code train.max-minutes}):
 * after a short calibration the step rate is measured and {@code train.epoch-length} is set so that
 * {@code optim.epochs × epoch-length} steps end at the deadline. Every epoch-counted key (warm-ups, the last-layer
 * freeze, the cosine ends of lr, weight decay, teacher momentum) scales with it, so the run anneals at the deadline
 * instead of being cut in the middle of its schedule.
 *
 * <p>Calibration: the first {@link #SKIPPED} steps (JIT, caches, the loader's first batches) are not timed; then at
 * least {@link #MIN_TIMED} steps and {@code max(MIN_SECONDS, FRACTION × budget)} seconds are, and the schedule is
 * fitted. The rate of the first seconds is not the steady one (the JIT and the allocator are still warming up: a
 * 14-minute fmnist run measured 24 steps/s there and 35 later, and ended 3 minutes early), so the fit is made once
 * more after {@code max(MIN_SECONDS, REFIT_FRACTION × budget)} further seconds, from the rate measured since the first
 * fit. The projection keeps a {@link #SAFETY} margin for checkpoints and noise. Each invocation fits on its own: a
 * resumed run with a new budget fits again from the step it resumed at.
 */
public final class ScheduleFit {

    static final int SKIPPED = 3;
    static final int MIN_TIMED = 10;
    static final double MIN_SECONDS = 10;
    static final double FRACTION = 0.03;
    static final double REFIT_FRACTION = 0.2;
    static final double SAFETY = 0.97;
    /** Fits per invocation: the calibration's and the steady-rate refit. */
    static final int FITS = 2;

    private final long epochs;
    private final long deadlineNanos;
    private final double calibrationSeconds;
    private final double refitSeconds;
    private long timedFromStep = -1;
    private long timedFromNanos;
    private long proposedAtStep;
    private long proposedAtNanos;
    private int fits;

    /**
     * @param epochs        {@code optim.epochs}
     * @param budgetSeconds the invocation's budget ({@code train.max-minutes} in seconds)
     * @param deadlineNanos its deadline on the {@link System#nanoTime()} scale
     */
    public ScheduleFit(long epochs, double budgetSeconds, long deadlineNanos) {
        this.epochs = epochs;
        this.deadlineNanos = deadlineNanos;
        this.calibrationSeconds = Math.max(MIN_SECONDS, FRACTION * budgetSeconds);
        this.refitSeconds = Math.max(MIN_SECONDS, REFIT_FRACTION * budgetSeconds);
    }

    /**
     * Called after each completed step.
     *
     * @param stepsThisRun steps completed since this invocation started
     * @param stepsDone    steps completed in the whole run (the global step)
     * @param nowNanos     {@link System#nanoTime()}
     * @return the fitted epoch length once a calibration window has ended (until {@link #finish()}), else 0
     */
    public long afterStep(long stepsThisRun, long stepsDone, long nowNanos) {
        if (fits >= FITS) {
            return 0;
        }
        if (fits == 0 && stepsThisRun == SKIPPED) {
            timedFromStep = stepsDone;
            timedFromNanos = nowNanos;
            return 0;
        }
        if (timedFromStep < 0) {
            return 0;
        }
        long timed = stepsDone - timedFromStep;
        double seconds = (nowNanos - timedFromNanos) / 1e9;
        if (timed < MIN_TIMED || seconds < (fits == 0 ? calibrationSeconds : refitSeconds)) {
            return 0;
        }
        proposedAtStep = stepsDone;
        proposedAtNanos = nowNanos;
        return epochLength(timed / seconds, stepsDone, (deadlineNanos - nowNanos) / 1e9);
    }

    /** Whether a fit is still to come. */
    public boolean pending() {
        return fits < FITS;
    }

    /**
     * The fit was applied (on every rank at the same step, after the {@link #afterStep} call that proposed it): the
     * next window is timed from there.
     */
    public void finish() {
        fits++;
        timedFromStep = proposedAtStep;
        timedFromNanos = proposedAtNanos;
    }

    /** The epoch length whose schedule ends when {@code remainingSeconds} at {@code rate} steps/s have passed. */
    long epochLength(double rate, long stepsDone, double remainingSeconds) {
        double projected = stepsDone + Math.max(0, remainingSeconds) * rate * SAFETY;
        return Math.max(1, (long) Math.floor(projected / epochs));
    }

    /**
     * The fit of a run with these settings started now, or null when its schedule keeps the configured length (no
     * {@code train.fit-schedule-to-time}, no {@code train.max-minutes}).
     */
    public static ScheduleFit of(TrainSettings settings, long deadlineNanos) {
        if (!settings.loop().fitScheduleToTime() || settings.loop().maxMinutes() <= 0) {
            return null;
        }
        return new ScheduleFit(settings.loop().epochs(), settings.loop().maxMinutes() * 60, deadlineNanos);
    }

    /** {@code plan} with the fitted {@code epochLength}, lengthened if needed so that step {@code step} is not past it. */
    public static TrainSettings refit(TrainSettings plan, long epochLength, long step) {
        TrainSettings next = plan.withEpochLength(epochLength);
        if (next.totalSteps() <= step) {
            next = plan.withEpochLength(Math.floorDiv(step, plan.loop().epochs()) + 1);
        }
        return next;
    }

    /** The log line of a fit. */
    public static String describe(TrainSettings fitted, long step) {
        return "Schedule fitted to train.max-minutes = " + fitted.loop().maxMinutes() + " after step " + step
                + ": train.epoch-length = " + fitted.loop().epochLength() + ", " + fitted.totalSteps()
                + " steps in all";
    }
}
