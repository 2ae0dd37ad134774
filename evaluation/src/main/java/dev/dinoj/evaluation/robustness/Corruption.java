package dev.dinoj.evaluation.robustness;

import dev.dinoj.evaluation.transform.ImageOps;
import dev.dinoj.pipeline.data.RgbImage;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Corruptions of ImageNet-C (Hendrycks &amp; Dietterich, 2019) at five severities. Noise, contrast and JPEG use
 * ImageNet-C's parameters as they are (they do not depend on the image size); the blur's σ is in pixels, and
 * ImageNet-C's 1–6 px at 224 px would erase a 28-px image, so it is rescaled to 0.5–1.5 px.
 */
public enum Corruption {
    /** Additive Gaussian noise, σ (on [0, 1] intensities) = 0.08, 0.12, 0.18, 0.26, 0.38. */
    GAUSSIAN_NOISE("gaussian_noise", 0.08, 0.12, 0.18, 0.26, 0.38),
    /** Gaussian blur, σ = 0.5, 0.75, 1.0, 1.25, 1.5 px. */
    GAUSSIAN_BLUR("gaussian_blur", 0.5, 0.75, 1.0, 1.25, 1.5),
    /** Contrast towards the image mean, factor 0.4, 0.3, 0.2, 0.1, 0.05. */
    CONTRAST("contrast", 0.4, 0.3, 0.2, 0.1, 0.05),
    /** JPEG round trip at quality 25, 18, 15, 10, 7. */
    JPEG("jpeg_compression", 25, 18, 15, 10, 7);

    private final String label;
    private final double[] params;

    Corruption(String label, double... params) {
        this.label = label;
        this.params = params;
    }

    /** @return ImageNet-C's name */
    public String label() {
        return label;
    }

    /**
     * The parameter of a severity.
     *
     * @param severity 1..5
     * @return σ, factor or quality
     */
    public double parameter(int severity) {
        if (severity < 1 || severity > params.length) {
            throw new IllegalArgumentException("severity must be in [1, 5]: " + severity);
        }
        return params[severity - 1];
    }

    /**
     * Corrupts one image.
     *
     * @param img the image
     * @param severity 1..5
     * @param rng randomness (noise only)
     * @return the corrupted image
     */
    public RgbImage apply(RgbImage img, int severity, RandomGenerator rng) {
        double p = parameter(severity);
        return switch (this) {
            case GAUSSIAN_NOISE -> ImageOps.gaussianNoise(img, p, rng);
            case GAUSSIAN_BLUR -> ImageOps.gaussianBlur(img, p);
            case CONTRAST -> ImageOps.contrast(img, p);
            case JPEG -> ImageOps.jpeg(img, (int) p);
        };
    }

    /**
     * The corruption of a name.
     *
     * @param s an ImageNet-C name ({@code gaussian_noise}, {@code gaussian_blur}, {@code contrast},
     *     {@code jpeg_compression}) or a short form ({@code noise}, {@code blur}, {@code jpeg})
     * @return the corruption
     */
    public static Corruption parse(String s) {
        for (Corruption c : values()) {
            if (c.label.equals(s) || c.name().equalsIgnoreCase(s)) {
                return c;
            }
        }
        return switch (s) {
            case "noise" -> GAUSSIAN_NOISE;
            case "blur" -> GAUSSIAN_BLUR;
            case "jpeg" -> JPEG;
            default ->
                throw new IllegalArgumentException("unknown corruption '" + s + "': use one of "
                        + Arrays.toString(
                                Arrays.stream(values()).map(Corruption::label).toArray()));
        };
    }
}
