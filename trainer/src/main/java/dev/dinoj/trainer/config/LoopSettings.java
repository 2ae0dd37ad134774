package dev.dinoj.trainer.config;

/**
 * The training loop ({@code dinoj.train.*}): how many images per step, how long, what is logged.
 *
 * @param batchSize   images per step (the global batch; ranks split it)
 * @param seed        every random draw of step s derives from (seed, s) and of sample p from (seed, p)
 * @param totalSteps  {@code train.max-steps}, or all scheduled iterations ({@code optim.epochs × train.epoch-length})
 * @param maxMinutes  wall-clock limit of a run (0 = none): checkpoint and stop when reached
 * @param logEvery    steps between log lines
 * @param cropPacking global and local crops through the student in one packed pass
 * @param activationCheckpointing recompute each student block in the backward instead of keeping its activations
 * @param epochs      {@code optim.epochs}
 * @param epochLength {@code train.epoch-length}
 * @param fitScheduleToTime with {@code maxMinutes}: the epoch length is fitted to the measured step rate so that
 *     the schedule ends at the deadline ({@code train.fit-schedule-to-time})
 */
public record LoopSettings(
        int batchSize,
        long seed,
        long totalSteps,
        double maxMinutes,
        int logEvery,
        boolean cropPacking,
        boolean activationCheckpointing,
        long epochs,
        long epochLength,
        boolean fitScheduleToTime) {

    static LoopSettings from(ConfigReader r) {
        int batchSize = r.intAt("dinoj.train.batch-size", 1, Bounds.BATCH);
        long maxSteps = r.longAt("dinoj.train.max-steps", 0, Bounds.STEPS);
        long epochs = r.intAt("dinoj.optim.epochs", 1, Bounds.EPOCHS);
        long epochLength = r.intAt("dinoj.train.epoch-length", 1, Bounds.EPOCH_LENGTH);
        long scheduled = epochs * epochLength;
        boolean fit = r.bool("dinoj.train.fit-schedule-to-time");
        if (fit && maxSteps > 0) {
            throw new ConfigError("dinoj.train.fit-schedule-to-time = true fits the schedule's length to "
                    + "dinoj.train.max-minutes; it cannot be combined with dinoj.train.max-steps = " + maxSteps);
        }
        int logEvery = r.intAt("dinoj.train.log-every", 1, Integer.MAX_VALUE);
        double maxMinutes = r.doubleAt("dinoj.train.max-minutes", 0, 1e9);
        boolean packing = r.bool("dinoj.train.crop-packing");
        boolean checkpointing = r.bool("dinoj.train.activation-checkpointing");
        long seed = r.longAt("dinoj.train.seed", Long.MIN_VALUE, Long.MAX_VALUE);
        return new LoopSettings(
                batchSize,
                seed,
                maxSteps > 0 ? maxSteps : scheduled,
                maxMinutes,
                logEvery,
                packing,
                checkpointing,
                epochs,
                epochLength,
                fit);
    }

    /** The deadline of a run started now ({@link System#nanoTime()} scale), {@link Long#MAX_VALUE} without a limit. */
    public long deadlineNanos() {
        return maxMinutes > 0 ? System.nanoTime() + (long) (maxMinutes * 60e9) : Long.MAX_VALUE;
    }
}
