package dev.dinoj.pipeline.augment;

import dev.dinoj.pipeline.data.RgbImage;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * dinov2's {@code DataAugmentationDINO}: one image → 2 global crops + N local crops, each normalised.
 *
 * <p>Per crop, in the official order (each random decision draws from {@code rng} in this order):
 * <ol>
 *   <li>geometric: {@code RandomResizedCrop(size, scale, ratio=(3/4, 4/3), BICUBIC)}, then
 *       {@code RandomHorizontalFlip(0.5)};</li>
 *   <li>colour: {@code RandomApply([ColorJitter(0.4, 0.4, 0.2, 0.1)], p=0.8)} (the four adjustments in a
 *       random order, as torchvision's {@code ColorJitter} does), then {@code RandomGrayscale(0.2)};</li>
 *   <li>extra: {@code GaussianBlur} (kernel 9, sigma ~ U(0.1, 2.0)) with the crop's <em>effective</em>
 *       probability ({@link MultiCropConfig#blurProbabilities()}); global crop 2 then
 *       {@code RandomSolarize(threshold=128, p=0.2)};</li>
 *   <li>{@code ToTensor} + {@code Normalize(mean, std)}.</li>
 * </ol>
 * Crops are produced in dinov2's order: global crop 1, global crop 2, then the local crops.
 *
 * <p>Deterministic: the same image and the same {@code rng} state give bitwise identical crops. Thread-safe:
 * each thread reuses its own scratch buffers; only the returned arrays are allocated.
 */
public final class MultiCropAugmentation {
    private static final int BRIGHTNESS = 0;
    private static final int CONTRAST = 1;
    private static final int SATURATION = 2;
    private static final int HUE = 3;

    private final MultiCropConfig config;
    // Unpacked once: the config's accessors copy arrays.
    private final double[] globalScale;
    private final double[] localScale;
    private final double[] ratio;
    private final double[] blur;
    private final double[] sigma;
    private final float[] mean;
    private final float[] std;
    private final ThreadLocal<Scratch> scratch = ThreadLocal.withInitial(Scratch::new);

    /** @param config the recipe, e.g. {@link MultiCropConfig#official()} */
    public MultiCropAugmentation(MultiCropConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        globalScale = config.globalCropsScale();
        localScale = config.localCropsScale();
        ratio = config.cropRatio();
        blur = config.blurProbabilities();
        sigma = config.blurSigma();
        mean = config.mean();
        std = config.std();
    }

    /** The recipe. */
    public MultiCropConfig config() {
        return config;
    }

    /**
     * Augments one image.
     *
     * @param image the source image (any size)
     * @param rng   the random stream; it is advanced
     * @return 2 global crops {@code [3, G, G]} and {@code localCropsNumber} local crops {@code [3, l, l]}
     */
    public MultiCropSample apply(RgbImage image, RandomGenerator rng) {
        Scratch s = scratch.get();
        int g = config.globalCropsSize();
        int l = config.localCropsSize();
        float[][] globalCrops = new float[2][3 * g * g];
        float[][] localCrops = new float[config.localCropsNumber()][3 * l * l];
        crop(image, g, globalScale, blur[0], false, rng, globalCrops[0], s); // global_transfo1
        crop(image, g, globalScale, blur[1], true, rng, globalCrops[1], s); // global_transfo2: + solarize
        for (float[] local : localCrops) {
            crop(image, l, localScale, blur[2], false, rng, local, s); // local_transfo
        }
        return new MultiCropSample(g, l, globalCrops, localCrops);
    }

    /** One crop: geometric → colour jitter → grayscale → blur → (solarize) → normalise, into {@code out}. */
    private void crop(
            RgbImage image,
            int size,
            double[] scale,
            double blurProbability,
            boolean solarize,
            RandomGenerator rng,
            float[] out,
            Scratch s) {
        int plane = size * size;
        CropBox box = Geometric.sampleBox(image.width(), image.height(), scale[0], scale[1], ratio[0], ratio[1], rng);
        Geometric.resample(image, box, size, out, s);
        if (rng.nextDouble() < config.flipProbability()) {
            Geometric.flipHorizontal(out, size);
        }
        if (rng.nextDouble() < config.colorJitterProbability()) {
            colorJitter(out, plane, rng, s.order());
        }
        if (rng.nextDouble() < config.grayscaleProbability()) {
            Photometric.grayscale(out, plane);
        }
        if (rng.nextDouble() < blurProbability) {
            Photometric.gaussianBlur(out, size, config.blurKernelSize(), Geometric.uniform(rng, sigma[0], sigma[1]), s);
        }
        if (solarize && rng.nextDouble() < config.solarizeProbability()) {
            Photometric.solarize(out);
        }
        Photometric.normalize(out, plane, mean, std);
    }

    /**
     * torchvision {@code ColorJitter.forward}: a random permutation of the four adjustments, then one factor per
     * enabled adjustment (brightness, contrast, saturation, hue, in that order), then the adjustments in the
     * permuted order. A zero strength disables an adjustment and its draw, as torchvision's {@code None}.
     */
    private void colorJitter(float[] img, int plane, RandomGenerator rng, int[] order) {
        for (int i = 0; i < 4; i++) {
            order[i] = i;
        }
        for (int i = 3; i > 0; i--) { // torch.randperm(4)
            int j = rng.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        double b = factor(config.brightness(), rng);
        double c = factor(config.contrast(), rng);
        double sat = factor(config.saturation(), rng);
        double h = config.hue() == 0 ? Double.NaN : Geometric.uniform(rng, -config.hue(), config.hue());
        for (int op : order) {
            if (op == BRIGHTNESS && !Double.isNaN(b)) {
                Photometric.adjustBrightness(img, b);
            } else if (op == CONTRAST && !Double.isNaN(c)) {
                Photometric.adjustContrast(img, plane, c);
            } else if (op == SATURATION && !Double.isNaN(sat)) {
                Photometric.adjustSaturation(img, plane, sat);
            } else if (op == HUE && !Double.isNaN(h)) {
                Photometric.adjustHue(img, plane, h);
            }
        }
    }

    /** A factor in {@code [max(0, 1 - strength), 1 + strength]}, or NaN (disabled) when strength is 0. */
    private static double factor(double strength, RandomGenerator rng) {
        return strength == 0 ? Double.NaN : Geometric.uniform(rng, Math.max(0, 1 - strength), 1 + strength);
    }
}
