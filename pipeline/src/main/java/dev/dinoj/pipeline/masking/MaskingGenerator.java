package dev.dinoj.pipeline.masking;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * Block-wise (BEiT / iBOT) patch masking, dinov2 {@code data/masking.py} {@code MaskingGenerator}.
 *
 * <p>A mask of {@code numMaskingPatches} patches is grown from random rectangles: each {@code _mask} call
 * makes up to 10 attempts at a rectangle of area {@code U(minNumPatches, maxMaskPatches)} and aspect ratio
 * {@code exp(U(log minAspect, log maxAspect))}, placed uniformly; it is accepted when it adds at least one
 * and at most {@code maxMaskPatches} new patches. Rectangles are added until the target is reached or a call
 * adds nothing. The result may fall short of the target but never exceeds it: each rectangle may add at most
 * {@code min(remaining, maxNumPatches)} patches.
 *
 * <p>Immutable and thread-safe; all randomness comes from the generator passed in (normally a
 * {@link java.util.SplittableRandom}): Python's {@code random.uniform(a, b)} is {@code a + (b - a) *
 * nextDouble()} and {@code random.randint(0, n)} is {@code nextInt(n + 1)}.
 */
public final class MaskingGenerator {
    private static final int ATTEMPTS = 10;

    private final int height;
    private final int width;
    private final Integer numMaskingPatches;
    private final int minNumPatches;
    private final double maxNumPatches;
    private final double logAspectMin;
    private final double logAspectMax;

    /**
     * Same parameters as the Python constructor ({@code input_size = (height, width)}).
     *
     * @param height            patches per column ({@code input_size[0]})
     * @param width             patches per row ({@code input_size[1]})
     * @param numMaskingPatches {@code num_masking_patches}; only used as the default of {@code maxNumPatches};
     *                          may be null
     * @param minNumPatches     smallest rectangle area drawn ({@code min_num_patches}, 4)
     * @param maxNumPatches     cap on the patches one rectangle may add ({@code max_num_patches}); null means
     *                          {@code numMaskingPatches}
     * @param minAspect         smallest aspect ratio ({@code min_aspect}, 0.3)
     * @param maxAspect         largest aspect ratio; null or 0 means {@code 1 / minAspect} (Python's {@code or})
     * @throws IllegalArgumentException if both {@code maxNumPatches} and {@code numMaskingPatches} are null
     *                                  (Python would fail on the first non-empty mask) or a size is not positive
     */
    public MaskingGenerator(
            int height,
            int width,
            Integer numMaskingPatches,
            int minNumPatches,
            Double maxNumPatches,
            double minAspect,
            Double maxAspect) {
        if (height <= 0 || width <= 0) {
            throw new IllegalArgumentException("mask size must be positive: " + height + "x" + width);
        }
        if (maxNumPatches == null && numMaskingPatches == null) {
            throw new IllegalArgumentException("give maxNumPatches or numMaskingPatches");
        }
        if (!(minAspect > 0)) {
            throw new IllegalArgumentException("minAspect must be > 0: " + minAspect);
        }
        this.height = height;
        this.width = width;
        this.numMaskingPatches = numMaskingPatches;
        this.minNumPatches = minNumPatches;
        this.maxNumPatches = maxNumPatches == null ? numMaskingPatches : maxNumPatches;
        double maxA = maxAspect == null || maxAspect == 0 ? 1 / minAspect : maxAspect;
        this.logAspectMin = Math.log(minAspect);
        this.logAspectMax = Math.log(maxA);
    }

    /**
     * The generator dinov2's {@code train.py} builds for global crops of {@code globalCropsSize} pixels and
     * {@code patchSize}-pixel patches: {@code input_size = (g // p, g // p)} and {@code max_num_patches =
     * 0.5 * g // p * g // p}, which Python evaluates left to right as {@code ((0.5 * g) // p * g) // p} on
     * floats (e.g. 128.0 for 224/14, 32.0 for 32/4); the other arguments keep their defaults.
     */
    public static MaskingGenerator forGlobalCrops(int globalCropsSize, int patchSize) {
        int side = globalCropsSize / patchSize;
        return new MaskingGenerator(side, side, null, 4, officialMaxNumPatches(globalCropsSize, patchSize), 0.3, null);
    }

    /** {@code 0.5 * img_size // patch_size * img_size // patch_size} with Python's precedence and float floor division. */
    static double officialMaxNumPatches(int imgSize, int patchSize) {
        double x = Math.floor(0.5 * imgSize / patchSize); // (0.5 * g) // p
        return Math.floor(x * imgSize / patchSize); // (... * g) // p
    }

    /** Patches per column. */
    public int height() {
        return height;
    }

    /** Patches per row. */
    public int width() {
        return width;
    }

    /** {@code height * width}: the length of a mask. */
    public int numPatches() {
        return height * width;
    }

    /** The cap on the patches one rectangle may add ({@code self.max_num_patches}). */
    public double maxNumPatches() {
        return maxNumPatches;
    }

    /**
     * {@code __call__(num_masking_patches)}: a new mask, row-major {@code [height * width]}.
     *
     * @param numMaskingPatches target number of masked patches; 0 gives an empty mask and draws nothing
     */
    public boolean[] generate(int numMaskingPatches, RandomGenerator rng) {
        boolean[] mask = new boolean[numPatches()];
        generate(numMaskingPatches, rng, mask, 0);
        return mask;
    }

    /**
     * As {@link #generate(int, RandomGenerator)}, writing into {@code mask[offset .. offset + height*width)},
     * which is cleared first.
     *
     * @return the number of masked patches
     */
    public int generate(int numMaskingPatches, RandomGenerator rng, boolean[] mask, int offset) {
        Arrays.fill(mask, offset, offset + numPatches(), false);
        int maskCount = 0;
        while (maskCount < numMaskingPatches) {
            double maxMaskPatches = Math.min(numMaskingPatches - maskCount, maxNumPatches);
            int delta = addRectangle(mask, offset, maxMaskPatches, rng);
            if (delta == 0) {
                break;
            }
            maskCount += delta;
        }
        return maskCount;
    }

    /** {@code _mask}: up to 10 attempts to add one rectangle; returns the number of newly masked patches. */
    private int addRectangle(boolean[] mask, int offset, double maxMaskPatches, RandomGenerator rng) {
        int delta = 0;
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            double targetArea = uniform(rng, minNumPatches, maxMaskPatches);
            double aspectRatio = Math.exp(uniform(rng, logAspectMin, logAspectMax));
            int h = (int) Math.rint(Math.sqrt(targetArea * aspectRatio)); // int(round(.)): half to even
            int w = (int) Math.rint(Math.sqrt(targetArea / aspectRatio));
            if (w < width && h < height) {
                int top = rng.nextInt(height - h + 1); // random.randint(0, height - h), both ends inclusive
                int left = rng.nextInt(width - w + 1);
                int numMasked = 0;
                for (int i = top; i < top + h; i++) {
                    for (int j = left; j < left + w; j++) {
                        numMasked += mask[offset + i * width + j] ? 1 : 0;
                    }
                }
                int added = h * w - numMasked;
                if (0 < added && added <= maxMaskPatches) { // overlap rule
                    for (int i = top; i < top + h; i++) {
                        for (int j = left; j < left + w; j++) {
                            if (!mask[offset + i * width + j]) {
                                mask[offset + i * width + j] = true;
                                delta++;
                            }
                        }
                    }
                }
                if (delta > 0) {
                    break;
                }
            }
        }
        return delta;
    }

    /** Python's {@code random.uniform(a, b) = a + (b - a) * random()}. */
    static double uniform(RandomGenerator rng, double a, double b) {
        return a + (b - a) * rng.nextDouble();
    }

    @Override
    public String toString() {
        return String.format(
                "Generator(%d, %d -> [%d ~ %d], max = %s, %.3f ~ %.3f)",
                height, width, minNumPatches, (long) maxNumPatches, numMaskingPatches, logAspectMin, logAspectMax);
    }
}
