package dev.dinoj.trainer.schedule;

/**
 * The five schedules of dinov2's train.py ({@code build_schedulers}), indexed by iteration.
 */
public final class Schedules {

    /** Schedule values of one iteration. */
    public record Values(double lr, double wd, double momentum, double teacherTemp, double lastLayerLr) {}

    private final CosineScheduler lr;
    private final CosineScheduler wd;
    private final CosineScheduler momentum;
    private final CosineScheduler teacherTemp;
    private final CosineScheduler lastLayerLr;

    public Schedules(
            CosineScheduler lr,
            CosineScheduler wd,
            CosineScheduler momentum,
            CosineScheduler teacherTemp,
            CosineScheduler lastLayerLr) {
        this.lr = lr;
        this.wd = wd;
        this.momentum = momentum;
        this.teacherTemp = teacherTemp;
        this.lastLayerLr = lastLayerLr;
    }

    /**
     * As train.py builds them: lr warms up from 0 for {@code warmupEpochs} then cosine to {@code minLr}; wd cosine
     * from {@code weightDecay} to {@code weightDecayEnd}; teacher momentum cosine to {@code finalMomentum}; teacher
     * temperature linear from {@code warmupTeacherTemp} over {@code warmupTeacherTempEpochs} then constant; the
     * last-layer lr equals the lr schedule with its first {@code freezeLastLayerEpochs} epochs set to 0.
     *
     * @param lr the peak lr after the scaling rule ({@link #scaledLr})
     */
    public static Schedules official(
            long epochs,
            long epochLength,
            double lr,
            double minLr,
            long warmupEpochs,
            double weightDecay,
            double weightDecayEnd,
            double momentumTeacher,
            double finalMomentumTeacher,
            double teacherTemp,
            double warmupTeacherTemp,
            long warmupTeacherTempEpochs,
            long freezeLastLayerEpochs) {
        long total = epochs * epochLength;
        CosineScheduler lrs = new CosineScheduler(lr, minLr, total, warmupEpochs * epochLength, 0, 0);
        long ttIters = warmupTeacherTempEpochs * epochLength;
        return new Schedules(
                lrs,
                new CosineScheduler(weightDecay, weightDecayEnd, total, 0, 0, 0),
                new CosineScheduler(momentumTeacher, finalMomentumTeacher, total, 0, 0, 0),
                new CosineScheduler(teacherTemp, teacherTemp, ttIters, ttIters, warmupTeacherTemp, 0),
                lrs.zeroFirst(freezeLastLayerEpochs * epochLength));
    }

    /**
     * dinov2 {@code apply_scaling_rules_to_cfg}: {@code sqrt_wrt_1024} → base_lr · √(global batch / 1024);
     * {@code linear_wrt_256} → base_lr · global batch / 256; {@code none} → base_lr.
     */
    public static double scaledLr(String rule, double baseLr, long globalBatch) {
        switch (rule) {
            case "sqrt_wrt_1024":
                return baseLr * Math.sqrt(globalBatch / 1024.0);
            case "linear_wrt_256":
                return baseLr * globalBatch / 256.0;
            case "none":
                return baseLr;
            default:
                throw new IllegalArgumentException(
                        "unknown lr scaling rule '" + rule + "': use sqrt_wrt_1024, linear_wrt_256 or none");
        }
    }

    public Values at(long it) {
        return new Values(lr.get(it), wd.get(it), momentum.get(it), teacherTemp.get(it), lastLayerLr.get(it));
    }
}
