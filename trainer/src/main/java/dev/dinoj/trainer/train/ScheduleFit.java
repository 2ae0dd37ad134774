package dev.dinoj.trainer.train;

/**
 * Fits a run's schedule to its wall-clock budget ({@code train.fit-schedule-to-time} with {@code train.max-minutes}):
 * after a short calibration the step rate is measured and {@code train.epoch-length} is set so that
 * {@code optim.epochs × epoch-length} steps end at the deadline. Every epoch-counted key (warm-ups, the last-layer
 * freeze, the cosine ends of lr, weight decay, teacher momentum) scales with it, so the run anneals at the deadline
 * instead of being cut in the middle of its schedule.
 *
 * <p>Calibration: the first {@link #SKIPPED} steps (JIT, caches, the loader's first batches) are not timed; then at
 * least {@link #MIN_TIMED} steps and {@code max(MIN_SECONDS, FRACTION × budget)} seconds are. The projection keeps a
 * {@link #SAFETY} margin for checkpoints and noise. One fit per invocation: a resumed run with a new budget fits again
 * from the step it resumed at.
 */
final class ScheduleFit {

    static final int SKIPPED = 3;
    static final int MIN_TIMED = 10;
    static final double MIN_SECONDS = 10;
    static final double FRACTION = 0.03;
    static final double SAFETY = 0.97;

    private final long epochs;
    private final long deadlineNanos;
    private final double calibrationSeconds;
    private long timedFromStep = -1;
    private long timedFromNanos;
    private boolean done;

    /**
     * @param epochs        {@code optim.epochs}
     * @param budgetSeconds the invocation's budget ({@code train.max-minutes} in seconds)
     * @param deadlineNanos its deadline on the {@link System#nanoTime()} scale
     */
    ScheduleFit(long epochs, double budgetSeconds, long deadlineNanos) {
        this.epochs = epochs;
        this.deadlineNanos = deadlineNanos;
        this.calibrationSeconds = Math.max(MIN_SECONDS, FRACTION * budgetSeconds);
    }

    /**
     * Called after each completed step.
     *
     * @param stepsThisRun steps completed since this invocation started
     * @param stepsDone    steps completed in the whole run (the global step)
     * @param nowNanos     {@link System#nanoTime()}
     * @return the fitted epoch length once calibration ends (once per fit), else 0
     */
    long afterStep(long stepsThisRun, long stepsDone, long nowNanos) {
        if (done) {
            return 0;
        }
        if (stepsThisRun == SKIPPED) {
            timedFromStep = stepsDone;
            timedFromNanos = nowNanos;
            return 0;
        }
        if (timedFromStep < 0) {
            return 0;
        }
        long timed = stepsDone - timedFromStep;
        double seconds = (nowNanos - timedFromNanos) / 1e9;
        if (timed < MIN_TIMED || seconds < calibrationSeconds) {
            return 0;
        }
        done = true;
        return epochLength(timed / seconds, stepsDone, (deadlineNanos - nowNanos) / 1e9);
    }

    /** The epoch length whose schedule ends when {@code remainingSeconds} at {@code rate} steps/s have passed. */
    long epochLength(double rate, long stepsDone, double remainingSeconds) {
        double projected = stepsDone + Math.max(0, remainingSeconds) * rate * SAFETY;
        return Math.max(1, (long) Math.floor(projected / epochs));
    }
}
