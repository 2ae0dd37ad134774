package dev.dinoj.trainer.train;

import dev.dinoj.trainer.schedule.Schedules;
import java.util.Map;

/** What happened in one step of the {@link TrainLoop}: losses, schedules, gradient norms, throughput. */
public record StepReport(
        long step,
        long totalSteps,
        Map<String, Double> losses,
        double totalLoss,
        Schedules.Values schedule,
        Map<String, Double> gradNorms,
        double imagesPerSecond,
        double dataWaitSeconds,
        double computeSeconds,
        int globalCropSize) {}
