package dev.dinoj.actors.train;

import dev.dinoj.trainer.checkpoint.CheckpointException;
import dev.dinoj.trainer.config.ConfigError;
import dev.dinoj.trainer.train.DivergenceException;

/**
 * What a worker's failure means for the run (it travels as its name in {@link RunDriver.StepFailed} and the other
 * failure messages). A {@link #TRANSIENT} failure (a lost node, a timeout, an I/O error) re-forms the world; the others
 * would fail the same way on any world, so they end the run as {@code failed} at once.
 */
public enum FailureKind {
    /** A non-finite loss or gradient norm ({@link DivergenceException}): re-forming would replay the same numbers. */
    DIVERGED,
    /** The run's configuration cannot build ({@link ConfigError}, a bad argument while building the model). */
    CONFIG,
    /** A checkpoint that does not verify or cannot be read ({@link CheckpointException}). */
    CHECKPOINT,
    /** Anything else: worth another world. */
    TRANSIENT;

    /** The kind of {@code t}, looking through its causes. */
    public static FailureKind of(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof DivergenceException) {
                return DIVERGED;
            }
            if (c instanceof ConfigError) {
                return CONFIG;
            }
            if (c instanceof CheckpointException) {
                return CHECKPOINT;
            }
        }
        return TRANSIENT;
    }

    /** The kind named {@code name} (as sent), {@link #TRANSIENT} when unknown. */
    public static FailureKind named(String name) {
        for (FailureKind k : values()) {
            if (k.name().equals(name)) {
                return k;
            }
        }
        return TRANSIENT;
    }

    /** Whether another world could succeed. */
    public boolean retryable() {
        return this == TRANSIENT;
    }
}
