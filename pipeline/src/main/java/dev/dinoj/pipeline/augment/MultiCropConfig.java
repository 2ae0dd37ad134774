package dev.dinoj.pipeline.augment;

import java.util.Arrays;

/**
 * The multi-crop recipe of dinov2's {@code DataAugmentationDINO} with every constant made explicit.
 *
 * <p><b>Blur probabilities.</b> dinov2's {@code GaussianBlur(p)} ({@code data/transforms.py}) subclasses
 * torchvision's {@code RandomApply} with probability {@code 1 - p}, so the official <em>code</em> blurs
 * global crop 1 with probability 0.0 ({@code p=1.0}), global crop 2 with 0.9 ({@code p=0.1}) and local crops
 * with 0.5 ({@code p=0.5}), while the paper's intent (from DINO/BYOL) was 1.0 / 0.1 / 0.5. Here
 * {@link #blurProbabilities} holds the <em>effective</em> probability that a crop is blurred, and the
 * default is the official code's {@link #BLUR_OFFICIAL_CODE}; use {@link #BLUR_PAPER} for the paper's.
 *
 * <p>Arrays are copied on construction and by their accessors. Each range is {@code {min, max}}.
 *
 * @param globalCropsSize        output side of the 2 global crops (dinov2 {@code crops.global_crops_size}, 224)
 * @param globalCropsScale       area fraction range of global crops ({@code global_crops_scale}, 0.32..1.0)
 * @param localCropsNumber       number of local crops ({@code local_crops_number}, 8)
 * @param localCropsSize         output side of the local crops ({@code local_crops_size}, 96)
 * @param localCropsScale        area fraction range of local crops ({@code local_crops_scale}, 0.05..0.32)
 * @param blurProbabilities      effective blur probability of {global crop 1, global crop 2, local crops}
 * @param solarizeProbability    probability of {@code RandomSolarize(threshold=128)}, global crop 2 only (0.2)
 * @param mean                   per-channel normalisation mean (ImageNet, timm's {@code IMAGENET_DEFAULT_MEAN})
 * @param std                    per-channel normalisation std (ImageNet, timm's {@code IMAGENET_DEFAULT_STD})
 * @param cropRatio              aspect ratio range of {@code RandomResizedCrop} (3/4..4/3)
 * @param flipProbability        {@code RandomHorizontalFlip} probability (0.5)
 * @param colorJitterProbability {@code RandomApply([ColorJitter], p)} probability (0.8)
 * @param brightness             {@code ColorJitter} brightness: factor in [max(0, 1-b), 1+b] (0.4)
 * @param contrast               {@code ColorJitter} contrast: factor in [max(0, 1-c), 1+c] (0.4)
 * @param saturation             {@code ColorJitter} saturation: factor in [max(0, 1-s), 1+s] (0.2)
 * @param hue                    {@code ColorJitter} hue: shift in [-h, h] of a turn, h ≤ 0.5 (0.1)
 * @param grayscaleProbability   {@code RandomGrayscale} probability (0.2)
 * @param blurKernelSize         odd {@code GaussianBlur} kernel side (9)
 * @param blurSigma              {@code GaussianBlur} sigma range, drawn uniformly (0.1..2.0)
 */
public record MultiCropConfig(
        int globalCropsSize,
        double[] globalCropsScale,
        int localCropsNumber,
        int localCropsSize,
        double[] localCropsScale,
        double[] blurProbabilities,
        double solarizeProbability,
        float[] mean,
        float[] std,
        double[] cropRatio,
        double flipProbability,
        double colorJitterProbability,
        double brightness,
        double contrast,
        double saturation,
        double hue,
        double grayscaleProbability,
        int blurKernelSize,
        double[] blurSigma) {

    /** Effective blur probabilities of the official dinov2 code: {global 1, global 2, local} = {0.0, 0.9, 0.5}. */
    public static final double[] BLUR_OFFICIAL_CODE = {0.0, 0.9, 0.5};
    /** Blur probabilities the DINOv2 paper intends: {global 1, global 2, local} = {1.0, 0.1, 0.5}. */
    public static final double[] BLUR_PAPER = {1.0, 0.1, 0.5};
    /** timm's {@code IMAGENET_DEFAULT_MEAN}, dinov2's default normalisation. */
    public static final float[] IMAGENET_DEFAULT_MEAN = {0.485f, 0.456f, 0.406f};
    /** timm's {@code IMAGENET_DEFAULT_STD}, dinov2's default normalisation. */
    public static final float[] IMAGENET_DEFAULT_STD = {0.229f, 0.224f, 0.225f};
    /** dinov2 default {@code crops.global_crops_scale}. */
    public static final double[] DEFAULT_GLOBAL_CROPS_SCALE = {0.32, 1.0};
    /** dinov2 default {@code crops.local_crops_scale}. */
    public static final double[] DEFAULT_LOCAL_CROPS_SCALE = {0.05, 0.32};

    public MultiCropConfig {
        globalCropsScale = range("globalCropsScale", globalCropsScale, 0, 1);
        localCropsScale = range("localCropsScale", localCropsScale, 0, 1);
        cropRatio = range("cropRatio", cropRatio, 0, Double.MAX_VALUE);
        blurSigma = range("blurSigma", blurSigma, 0, Double.MAX_VALUE);
        require(globalCropsSize > 0, "globalCropsSize must be > 0: " + globalCropsSize);
        require(localCropsSize > 0, "localCropsSize must be > 0: " + localCropsSize);
        require(localCropsNumber >= 0, "localCropsNumber must be >= 0: " + localCropsNumber);
        require(
                blurProbabilities != null && blurProbabilities.length == 3,
                "blurProbabilities must be {global1, global2, local}: " + Arrays.toString(blurProbabilities));
        blurProbabilities = blurProbabilities.clone();
        for (double p : blurProbabilities) {
            probability("blurProbabilities", p);
        }
        probability("solarizeProbability", solarizeProbability);
        probability("flipProbability", flipProbability);
        probability("colorJitterProbability", colorJitterProbability);
        probability("grayscaleProbability", grayscaleProbability);
        require(mean != null && mean.length == 3, "mean must have 3 values: " + Arrays.toString(mean));
        require(std != null && std.length == 3, "std must have 3 values: " + Arrays.toString(std));
        mean = mean.clone();
        std = std.clone();
        for (float s : std) {
            require(s > 0, "std must be > 0: " + Arrays.toString(std));
        }
        require(
                brightness >= 0 && contrast >= 0 && saturation >= 0,
                "brightness, contrast, saturation must be >= 0: " + brightness + ", " + contrast + ", " + saturation);
        require(hue >= 0 && hue <= 0.5, "hue must be in [0, 0.5]: " + hue);
        require(blurKernelSize > 0 && blurKernelSize % 2 == 1, "blurKernelSize must be odd and > 0: " + blurKernelSize);
    }

    /** The official recipe: 224 px global crops, 8 local crops of 96 px, default scales and blur. */
    public static MultiCropConfig official() {
        return official(224, 8, 96);
    }

    /** The official recipe at other crop sizes, with the default scales (0.32..1 and 0.05..0.32). */
    public static MultiCropConfig official(int globalCropsSize, int localCropsNumber, int localCropsSize) {
        return official(
                globalCropsSize,
                DEFAULT_GLOBAL_CROPS_SCALE,
                localCropsNumber,
                localCropsSize,
                DEFAULT_LOCAL_CROPS_SCALE);
    }

    /**
     * The official recipe (dinov2 {@code DataAugmentationDINO}) for the given {@code crops.*} settings, with the
     * official code's effective blur probabilities {@link #BLUR_OFFICIAL_CODE}.
     */
    public static MultiCropConfig official(
            int globalCropsSize,
            double[] globalCropsScale,
            int localCropsNumber,
            int localCropsSize,
            double[] localCropsScale) {
        return new MultiCropConfig(
                globalCropsSize,
                globalCropsScale,
                localCropsNumber,
                localCropsSize,
                localCropsScale,
                BLUR_OFFICIAL_CODE,
                0.2,
                IMAGENET_DEFAULT_MEAN,
                IMAGENET_DEFAULT_STD,
                new double[] {3.0 / 4.0, 4.0 / 3.0},
                0.5,
                0.8,
                0.4,
                0.4,
                0.2,
                0.1,
                0.2,
                9,
                new double[] {0.1, 2.0});
    }

    /** A builder starting from this config. */
    public Builder toBuilder() {
        return new Builder(this);
    }

    // Accessors of array components return copies (the record keeps its own).
    @Override
    public double[] globalCropsScale() {
        return globalCropsScale.clone();
    }

    @Override
    public double[] localCropsScale() {
        return localCropsScale.clone();
    }

    @Override
    public double[] blurProbabilities() {
        return blurProbabilities.clone();
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    @Override
    public double[] cropRatio() {
        return cropRatio.clone();
    }

    @Override
    public double[] blurSigma() {
        return blurSigma.clone();
    }

    // Value semantics over the array contents; toString prints every component exactly (shortest round-trip form).
    @Override
    public boolean equals(Object o) {
        return o instanceof MultiCropConfig c && toString().equals(c.toString());
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }

    @Override
    public String toString() {
        return "MultiCropConfig[globalCropsSize=" + globalCropsSize
                + ", globalCropsScale=" + Arrays.toString(globalCropsScale)
                + ", localCropsNumber=" + localCropsNumber
                + ", localCropsSize=" + localCropsSize
                + ", localCropsScale=" + Arrays.toString(localCropsScale)
                + ", blurProbabilities=" + Arrays.toString(blurProbabilities)
                + ", solarizeProbability=" + solarizeProbability
                + ", mean=" + Arrays.toString(mean)
                + ", std=" + Arrays.toString(std)
                + ", cropRatio=" + Arrays.toString(cropRatio)
                + ", flipProbability=" + flipProbability
                + ", colorJitterProbability=" + colorJitterProbability
                + ", brightness=" + brightness
                + ", contrast=" + contrast
                + ", saturation=" + saturation
                + ", hue=" + hue
                + ", grayscaleProbability=" + grayscaleProbability
                + ", blurKernelSize=" + blurKernelSize
                + ", blurSigma=" + Arrays.toString(blurSigma) + "]";
    }

    private static double[] range(String name, double[] r, double lo, double hi) {
        require(r != null && r.length == 2, name + " must be {min, max}: " + Arrays.toString(r));
        require(
                r[0] > lo && r[0] <= r[1] && r[1] <= hi,
                name + " must satisfy " + lo + " < min <= max <= " + hi + ": " + Arrays.toString(r));
        return r.clone();
    }

    private static void probability(String name, double p) {
        require(p >= 0 && p <= 1, name + " must be in [0, 1]: " + p);
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** Fluent copy-and-modify for {@link MultiCropConfig}; setters are named after the components. */
    public static final class Builder {
        private int globalCropsSize;
        private double[] globalCropsScale;
        private int localCropsNumber;
        private int localCropsSize;
        private double[] localCropsScale;
        private double[] blurProbabilities;
        private double solarizeProbability;
        private float[] mean;
        private float[] std;
        private double[] cropRatio;
        private double flipProbability;
        private double colorJitterProbability;
        private double brightness;
        private double contrast;
        private double saturation;
        private double hue;
        private double grayscaleProbability;
        private int blurKernelSize;
        private double[] blurSigma;

        private Builder(MultiCropConfig c) {
            globalCropsSize = c.globalCropsSize;
            globalCropsScale = c.globalCropsScale;
            localCropsNumber = c.localCropsNumber;
            localCropsSize = c.localCropsSize;
            localCropsScale = c.localCropsScale;
            blurProbabilities = c.blurProbabilities;
            solarizeProbability = c.solarizeProbability;
            mean = c.mean;
            std = c.std;
            cropRatio = c.cropRatio;
            flipProbability = c.flipProbability;
            colorJitterProbability = c.colorJitterProbability;
            brightness = c.brightness;
            contrast = c.contrast;
            saturation = c.saturation;
            hue = c.hue;
            grayscaleProbability = c.grayscaleProbability;
            blurKernelSize = c.blurKernelSize;
            blurSigma = c.blurSigma;
        }

        public Builder globalCropsSize(int v) {
            globalCropsSize = v;
            return this;
        }

        public Builder globalCropsScale(double min, double max) {
            globalCropsScale = new double[] {min, max};
            return this;
        }

        public Builder localCropsNumber(int v) {
            localCropsNumber = v;
            return this;
        }

        public Builder localCropsSize(int v) {
            localCropsSize = v;
            return this;
        }

        public Builder localCropsScale(double min, double max) {
            localCropsScale = new double[] {min, max};
            return this;
        }
        /** Effective probabilities {global 1, global 2, local}, e.g. {@link #BLUR_PAPER}. */
        public Builder blurProbabilities(double[] v) {
            blurProbabilities = v;
            return this;
        }

        public Builder solarizeProbability(double v) {
            solarizeProbability = v;
            return this;
        }

        public Builder mean(float[] v) {
            mean = v;
            return this;
        }

        public Builder std(float[] v) {
            std = v;
            return this;
        }

        public Builder cropRatio(double min, double max) {
            cropRatio = new double[] {min, max};
            return this;
        }

        public Builder flipProbability(double v) {
            flipProbability = v;
            return this;
        }

        public Builder colorJitterProbability(double v) {
            colorJitterProbability = v;
            return this;
        }

        public Builder brightness(double v) {
            brightness = v;
            return this;
        }

        public Builder contrast(double v) {
            contrast = v;
            return this;
        }

        public Builder saturation(double v) {
            saturation = v;
            return this;
        }

        public Builder hue(double v) {
            hue = v;
            return this;
        }

        public Builder grayscaleProbability(double v) {
            grayscaleProbability = v;
            return this;
        }

        public Builder blurKernelSize(int v) {
            blurKernelSize = v;
            return this;
        }

        public Builder blurSigma(double min, double max) {
            blurSigma = new double[] {min, max};
            return this;
        }

        /** Sets the flip, jitter, grayscale, blur and solarize probabilities to 0: random crop and normalise only. */
        public Builder disableFlipAndColor() {
            flipProbability = 0;
            colorJitterProbability = 0;
            grayscaleProbability = 0;
            blurProbabilities = new double[3];
            solarizeProbability = 0;
            return this;
        }

        /** Validates and builds. */
        public MultiCropConfig build() {
            return new MultiCropConfig(
                    globalCropsSize,
                    globalCropsScale,
                    localCropsNumber,
                    localCropsSize,
                    localCropsScale,
                    blurProbabilities,
                    solarizeProbability,
                    mean,
                    std,
                    cropRatio,
                    flipProbability,
                    colorJitterProbability,
                    brightness,
                    contrast,
                    saturation,
                    hue,
                    grayscaleProbability,
                    blurKernelSize,
                    blurSigma);
        }
    }
}
