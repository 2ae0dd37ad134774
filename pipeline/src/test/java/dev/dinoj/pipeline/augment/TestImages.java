package dev.dinoj.pipeline.augment;

import dev.dinoj.pipeline.data.RgbImage;
import java.util.SplittableRandom;

/** Synthetic images for augmentation tests. */
final class TestImages {
    private TestImages() {}

    /** Uniform random RGB values in [0, 1], quantised to 8 bits like a decoded image. */
    static RgbImage random(int width, int height, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] chw = new float[3 * width * height];
        for (int i = 0; i < chw.length; i++) {
            chw[i] = rng.nextInt(256) / 255f;
        }
        return new RgbImage(width, height, chw);
    }

    /** Every pixel of channel c has value {@code rgb[c]}. */
    static RgbImage constant(int width, int height, float... rgb) {
        int plane = width * height;
        float[] chw = new float[3 * plane];
        for (int c = 0; c < 3; c++) {
            java.util.Arrays.fill(chw, c * plane, (c + 1) * plane, rgb[c]);
        }
        return new RgbImage(width, height, chw);
    }
}
