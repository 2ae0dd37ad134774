package dev.dinoj.actors.train;

import dev.dinoj.actors.ClusterMessage;
import dev.dinoj.trainer.schedule.Schedules;

/**
 * The per-step schedule values the coordinator sends with every step (dinov2: lr, wd, momentum, teacher temperature,
 * last-layer lr) and the resolution phase (global/local crop sizes of the high-resolution phase when {@code highRes}).
 */
public record StepSchedule(
        double lr, double wd, double momentum, double teacherTemp, double lastLayerLr, boolean highRes)
        implements ClusterMessage {

    public static StepSchedule of(Schedules.Values v, boolean highRes) {
        return new StepSchedule(v.lr(), v.wd(), v.momentum(), v.teacherTemp(), v.lastLayerLr(), highRes);
    }

    public Schedules.Values values() {
        return new Schedules.Values(lr, wd, momentum, teacherTemp, lastLayerLr);
    }
}
