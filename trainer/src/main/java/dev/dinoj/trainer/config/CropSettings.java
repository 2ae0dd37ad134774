package dev.dinoj.trainer.config;

import com.typesafe.config.ConfigException;
import dev.dinoj.pipeline.augment.MultiCropConfig;
import java.util.List;

/**
 * The multi-crop recipe ({@code dinoj.crops.*}) and its high-resolution phase ({@code dinoj.high-res.*}): dinov2's
 * last epochs at a larger crop size.
 *
 * @param normal           crops of the normal phase
 * @param highRes          crops of the high-resolution phase, or null when there is none
 * @param highResStartStep first step of the high-resolution phase, 0 when disabled
 */
public record CropSettings(MultiCropConfig normal, MultiCropConfig highRes, long highResStartStep) {

    static CropSettings from(ConfigReader r, int patchSize) {
        r.doubleAt("dinoj.crops.solarize-probability", 0, 1);
        List<Double> blur = r.doubles("dinoj.crops.blur-probabilities");
        if (blur.size() != 3 || blur.stream().anyMatch(b -> !(b >= 0 && b <= 1))) {
            throw new ConfigError("dinoj.crops.blur-probabilities = " + blur
                    + " must be 3 probabilities in [0, 1]: global crop 1, global crop 2, local crops");
        }
        r.scaleAt("dinoj.crops.global-crops-scale");
        r.scaleAt("dinoj.crops.local-crops-scale");
        long start = r.longAt("dinoj.high-res.start-step", 0, Bounds.STEPS);
        int global = r.multipleOf("dinoj.crops.global-crops-size", patchSize, Bounds.CROP_SIDE);
        int local = r.multipleOf("dinoj.crops.local-crops-size", patchSize, Bounds.CROP_SIDE);
        MultiCropConfig highRes = null;
        if (start > 0) {
            highRes = recipe(
                    r,
                    r.multipleOf("dinoj.high-res.global-crops-size", patchSize, Bounds.CROP_SIDE),
                    r.multipleOf("dinoj.high-res.local-crops-size", patchSize, Bounds.CROP_SIDE));
        }
        return new CropSettings(recipe(r, global, local), highRes, start);
    }

    private static MultiCropConfig recipe(ConfigReader r, int globalSize, int localSize) {
        try {
            double[] blur = r.doubles("dinoj.crops.blur-probabilities").stream()
                    .mapToDouble(Double::doubleValue)
                    .toArray();
            return MultiCropConfig.official(
                            globalSize,
                            r.scaleAt("dinoj.crops.global-crops-scale"),
                            r.intAt("dinoj.crops.local-crops-number", 0, Bounds.LOCAL_CROPS),
                            localSize,
                            r.scaleAt("dinoj.crops.local-crops-scale"))
                    .toBuilder()
                    .blurProbabilities(blur)
                    .solarizeProbability(r.doubleAt("dinoj.crops.solarize-probability", 0, 1))
                    .build();
        } catch (ConfigError | ConfigException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new ConfigError("dinoj.crops: " + e.getMessage());
        }
    }

    /** The crops of the normal phase, or of the high-resolution phase. */
    public MultiCropConfig multiCrop(boolean highResPhase) {
        return highResPhase ? highRes : normal;
    }

    /** Whether step {@code step} belongs to the high-resolution phase. */
    public boolean highResAt(long step) {
        return highResStartStep > 0 && step >= highResStartStep;
    }

    /** The last step (exclusive) of the phase that {@code step} is in. */
    public long phaseEnd(long step, long totalSteps) {
        return highResAt(step) || highResStartStep <= 0 ? totalSteps : Math.min(totalSteps, highResStartStep);
    }
}
