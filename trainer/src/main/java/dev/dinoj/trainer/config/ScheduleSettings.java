package dev.dinoj.trainer.config;

import dev.dinoj.trainer.schedule.Schedules;

/** The schedules of a run from {@code dinoj.optim.*}, {@code dinoj.teacher.*} and {@code train.epoch-length}. */
final class ScheduleSettings {

    private ScheduleSettings() {}

    static Schedules from(ConfigReader r, int batchSize) {
        long epochLength = r.intAt("dinoj.train.epoch-length", 1, Bounds.EPOCH_LENGTH);
        long epochs = r.intAt("dinoj.optim.epochs", 1, Bounds.EPOCHS);
        long warmup = r.intAt("dinoj.optim.warmup-epochs", 0, Bounds.EPOCHS);
        if (warmup > epochs) {
            throw new ConfigError("dinoj.optim.warmup-epochs = " + warmup + " exceeds dinoj.optim.epochs = " + epochs);
        }
        double lr;
        try {
            lr = Schedules.scaledLr(
                    r.string("dinoj.optim.scaling-rule"), r.doubleAt("dinoj.optim.base-lr", 0, 10), batchSize);
        } catch (ConfigError e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ConfigError("dinoj.optim.scaling-rule: " + e.getMessage());
        }
        return Schedules.official(
                epochs,
                epochLength,
                lr,
                r.doubleAt("dinoj.optim.min-lr", 0, 10),
                warmup,
                r.doubleAt("dinoj.optim.weight-decay", 0, 10),
                r.doubleAt("dinoj.optim.weight-decay-end", 0, 10),
                r.doubleAt("dinoj.teacher.momentum-teacher", 0, 1),
                r.doubleAt("dinoj.teacher.final-momentum-teacher", 0, 1),
                r.doubleAt("dinoj.teacher.teacher-temp", 1e-6, 10),
                r.doubleAt("dinoj.teacher.warmup-teacher-temp", 1e-6, 10),
                r.intAt("dinoj.teacher.warmup-teacher-temp-epochs", 0, Bounds.EPOCHS),
                r.intAt("dinoj.optim.freeze-last-layer-epochs", 0, Bounds.EPOCHS));
    }
}
