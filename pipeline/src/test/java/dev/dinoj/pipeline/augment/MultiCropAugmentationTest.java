package dev.dinoj.pipeline.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.pipeline.data.RgbImage;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MultiCropAugmentationTest {
    private static final MultiCropConfig TINY = MultiCropConfig.official(32, 6, 16);
    /** Random crop + normalise only; scale (1, 1) and the image's own size: identity geometry. */
    private static final MultiCropConfig IDENTITY = TINY.toBuilder()
            .disableFlipAndColor()
            .globalCropsSize(28)
            .localCropsSize(28)
            .globalCropsScale(1, 1)
            .localCropsScale(1, 1)
            .build();

    private static float[] normalized(RgbImage img, MultiCropConfig cfg) {
        float[] x = img.chw().clone();
        Photometric.normalize(x, img.planeSize(), cfg.mean(), cfg.std());
        return x;
    }

    private static float[] denormalized(float[] crop, MultiCropConfig cfg) {
        float[] mean = cfg.mean();
        float[] std = cfg.std();
        float[] x = new float[crop.length];
        int plane = crop.length / 3;
        for (int i = 0; i < crop.length; i++) {
            x[i] = crop[i] * std[i / plane] + mean[i / plane];
        }
        return x;
    }

    @Test
    void shouldProduceOfficialShapes() {
        MultiCropSample s =
                new MultiCropAugmentation(TINY).apply(TestImages.random(28, 28, 1), new SplittableRandom(1));
        assertEquals(2, s.globalCrops().length);
        assertEquals(6, s.localCropsNumber());
        assertEquals(32, s.globalSize());
        assertEquals(16, s.localSize());
        for (float[] g : s.globalCrops()) {
            assertEquals(3 * 32 * 32, g.length);
        }
        for (float[] l : s.localCrops()) {
            assertEquals(3 * 16 * 16, l.length);
        }
    }

    @Test
    void shouldBeBitwiseDeterministic() {
        RgbImage img = TestImages.random(28, 28, 7);
        MultiCropAugmentation aug = new MultiCropAugmentation(MultiCropConfig.official(32, 6, 16));
        for (long seed = 0; seed < 20; seed++) {
            MultiCropSample a = aug.apply(img, new SplittableRandom(seed));
            MultiCropSample b = new MultiCropAugmentation(TINY).apply(img, new SplittableRandom(seed));
            assertTrue(java.util.Arrays.deepEquals(a.globalCrops(), b.globalCrops()));
            assertTrue(java.util.Arrays.deepEquals(a.localCrops(), b.localCrops()));
        }
        MultiCropSample c = aug.apply(img, new SplittableRandom(1));
        MultiCropSample d = aug.apply(img, new SplittableRandom(2));
        assertFalse(java.util.Arrays.equals(c.globalCrops()[0], d.globalCrops()[0]));
    }

    @Test
    void shouldBeNormalizeOnlyWithIdentityGeometryAndNoPhotometry() {
        RgbImage img = TestImages.random(28, 28, 3);
        MultiCropSample s = new MultiCropAugmentation(IDENTITY).apply(img, new SplittableRandom(5));
        float[] expected = normalized(img, IDENTITY);
        assertArrayEquals(expected, s.globalCrops()[0]);
        assertArrayEquals(expected, s.globalCrops()[1]);
        for (float[] l : s.localCrops()) {
            assertArrayEquals(expected, l);
        }
    }

    @Test
    void shouldMirrorRowsWhenFlipped() {
        RgbImage img = TestImages.random(28, 28, 4);
        MultiCropConfig flip = IDENTITY.toBuilder().flipProbability(1).build();
        MultiCropSample s = new MultiCropAugmentation(flip).apply(img, new SplittableRandom(5));
        float[] expected = normalized(img, flip);
        float[] crop = s.globalCrops()[0];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 28; y++) {
                for (int x = 0; x < 28; x++) {
                    assertEquals(expected[(c * 28 + y) * 28 + (27 - x)], crop[(c * 28 + y) * 28 + x]);
                }
            }
        }
    }

    @Test
    void shouldSolarizeOnlyTheSecondGlobalCrop() {
        RgbImage img = TestImages.random(28, 28, 8);
        MultiCropConfig sol = IDENTITY.toBuilder().solarizeProbability(1).build();
        MultiCropSample s = new MultiCropAugmentation(sol).apply(img, new SplittableRandom(5));
        assertArrayEquals(normalized(img, sol), s.globalCrops()[0]);
        float[] second = denormalized(s.globalCrops()[1], sol);
        float[] src = img.chw();
        for (int i = 0; i < src.length; i++) {
            float expected = src[i] >= 128 / 255f ? 1 - src[i] : src[i];
            assertEquals(expected, second[i], 1e-6f);
        }
        assertArrayEquals(normalized(img, sol), s.localCrops()[0]);
    }

    @Test
    void shouldMakeChannelsEqualWhenGrayscale() {
        MultiCropConfig gray = TINY.toBuilder().grayscaleProbability(1).build();
        MultiCropSample s =
                new MultiCropAugmentation(gray).apply(TestImages.random(28, 28, 9), new SplittableRandom(3));
        for (float[] crop : s.globalCrops()) {
            float[] x = denormalized(crop, gray);
            int plane = crop.length / 3;
            for (int i = 0; i < plane; i++) {
                assertEquals(x[i], x[plane + i], 1e-6f);
                assertEquals(x[i], x[2 * plane + i], 1e-6f);
            }
        }
    }

    @Test
    void shouldKeepConstantImageConstantUnderBlur() {
        MultiCropConfig blur =
                IDENTITY.toBuilder().blurProbabilities(new double[] {1, 1, 1}).build();
        RgbImage img = TestImages.constant(28, 28, 0.2f, 0.5f, 0.9f);
        MultiCropSample s = new MultiCropAugmentation(blur).apply(img, new SplittableRandom(3));
        float[] x = denormalized(s.localCrops()[0], blur);
        double[] sums = new double[3];
        for (int i = 0; i < x.length; i++) {
            sums[i / (28 * 28)] += x[i];
            assertEquals(img.chw()[i], x[i], 1e-5f);
        }
        assertEquals(0.2, sums[0] / (28 * 28), 1e-5);
    }

    @Test
    void shouldBlurWithTheEffectiveProbabilities() {
        // BLUR_OFFICIAL_CODE: global crop 1 never, global crop 2 in 90 % of cases, local crops in 50 %.
        MultiCropConfig cfg = IDENTITY.toBuilder()
                .blurProbabilities(MultiCropConfig.BLUR_OFFICIAL_CODE)
                .build();
        MultiCropAugmentation aug = new MultiCropAugmentation(cfg);
        RgbImage img = TestImages.random(28, 28, 10);
        float[] sharp = normalized(img, cfg);
        int[] blurred = new int[3];
        int trials = 400;
        for (int t = 0; t < trials; t++) {
            MultiCropSample s = aug.apply(img, new SplittableRandom(t));
            blurred[0] += java.util.Arrays.equals(sharp, s.globalCrops()[0]) ? 0 : 1;
            blurred[1] += java.util.Arrays.equals(sharp, s.globalCrops()[1]) ? 0 : 1;
            blurred[2] += java.util.Arrays.equals(sharp, s.localCrops()[0]) ? 0 : 1;
        }
        assertEquals(0, blurred[0]);
        assertEquals(0.9, blurred[1] / (double) trials, 0.05);
        assertEquals(0.5, blurred[2] / (double) trials, 0.08);
    }

    @Test
    void shouldKeepValuesInRangeUnderFullRecipe() {
        MultiCropConfig all = TINY.toBuilder()
                .blurProbabilities(new double[] {1, 1, 1})
                .colorJitterProbability(1)
                .solarizeProbability(1)
                .build();
        MultiCropAugmentation aug = new MultiCropAugmentation(all);
        for (int t = 0; t < 50; t++) {
            MultiCropSample s = aug.apply(TestImages.random(20 + t, 28, t), new SplittableRandom(t));
            for (float[] crop : s.globalCrops()) {
                for (float v : denormalized(crop, all)) {
                    assertTrue(v >= -1e-5f && v <= 1 + 1e-5f, "value " + v);
                }
            }
        }
    }

    @Test
    void shouldExposeBothBlurConventions() {
        assertArrayEquals(
                new double[] {0.0, 0.9, 0.5}, MultiCropConfig.official().blurProbabilities());
        assertArrayEquals(new double[] {1.0, 0.1, 0.5}, MultiCropConfig.BLUR_PAPER);
        MultiCropConfig official = MultiCropConfig.official();
        assertEquals(224, official.globalCropsSize());
        assertEquals(96, official.localCropsSize());
        assertEquals(8, official.localCropsNumber());
        assertArrayEquals(new double[] {0.32, 1.0}, official.globalCropsScale());
        assertArrayEquals(new double[] {0.05, 0.32}, official.localCropsScale());
        assertEquals(official, official.toBuilder().build());
        assertThrows(
                IllegalArgumentException.class,
                () -> official.toBuilder().blurProbabilities(new double[2]).build());
        assertThrows(
                IllegalArgumentException.class,
                () -> official.toBuilder().globalCropsScale(0.5, 0.4).build());
        assertThrows(
                IllegalArgumentException.class,
                () -> official.toBuilder().blurKernelSize(8).build());
    }

    @Test
    void shouldBeFastOnSmallCrops() {
        MultiCropAugmentation aug = new MultiCropAugmentation(MultiCropConfig.official(32, 6, 16));
        RgbImage img = TestImages.random(28, 28, 11);
        SplittableRandom rng = new SplittableRandom(0);
        for (int i = 0; i < 2000; i++) { // warm-up for the JIT
            aug.apply(img, rng);
        }
        int n = 2000;
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            aug.apply(img, rng);
        }
        double perImageMs = (System.nanoTime() - t0) / 1e6 / n;
        System.out.printf(
                "multi-crop 2x32px + 6x16px from 28x28: %.3f ms per image (%.3f ms per crop)%n",
                perImageMs, perImageMs / 8);
        assertTrue(perImageMs < 8, "augmentation too slow: " + perImageMs + " ms per image");
    }
}
