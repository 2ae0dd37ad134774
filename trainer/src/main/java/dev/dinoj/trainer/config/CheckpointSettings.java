package dev.dinoj.trainer.config;

/**
 * Checkpoint cadence ({@code dinoj.checkpoint.*}).
 *
 * @param everySteps steps between checkpoints (a run also checkpoints at its end and when stopped)
 * @param keepLast   checkpoints kept; older ones are deleted after a new one is complete
 */
public record CheckpointSettings(int everySteps, int keepLast) {

    static CheckpointSettings from(ConfigReader r) {
        return new CheckpointSettings(
                r.intAt("dinoj.checkpoint.every-steps", 1, Integer.MAX_VALUE),
                r.intAt("dinoj.checkpoint.keep-last", 1, Bounds.KEEP));
    }

    /** Whether a checkpoint is due after {@code step} steps of {@code totalSteps}. */
    public boolean dueAfter(long step, long totalSteps) {
        return step % everySteps == 0 || step == totalSteps;
    }
}
