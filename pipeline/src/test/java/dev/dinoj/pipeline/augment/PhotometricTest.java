package dev.dinoj.pipeline.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class PhotometricTest {
    /** One pixel (plane = 1) as CHW. */
    private static float[] px(float r, float g, float b) {
        return new float[] {r, g, b};
    }

    @Test
    void shouldShiftHueLikeTorchvision() {
        float[] red = px(1, 0, 0);
        Photometric.adjustHue(red, 1, 1 / 3.0); // red → green
        assertArrayEquals(px(0, 1, 0), red, 1e-6f);
        float[] green = px(0, 1, 0);
        Photometric.adjustHue(green, 1, -1 / 3.0); // negative shifts wrap around: green → red
        assertArrayEquals(px(1, 0, 0), green, 1e-6f);
        float[] c = px(0.8f, 0.4f, 0.2f); // h = 1/18, s = 0.75, v = 0.8
        Photometric.adjustHue(c, 1, 0.5); // opposite hue: h = 10/18 → sector 3
        assertArrayEquals(px(0.2f, 0.6f, 0.8f), c, 1e-6f);
        float[] gray = px(0.3f, 0.3f, 0.3f);
        Photometric.adjustHue(gray, 1, 0.2);
        assertArrayEquals(px(0.3f, 0.3f, 0.3f), gray, 1e-6f);
    }

    @Test
    void shouldBlendAndClampLikeTorchvision() {
        float[] b = px(0.5f, 0.8f, 0.1f);
        Photometric.adjustBrightness(b, 1.4);
        assertArrayEquals(px(0.7f, 1f, 0.14f), b, 1e-6f);
        float[] s = px(1f, 0f, 0f);
        Photometric.adjustSaturation(s, 1, 0.0); // factor 0: grayscale
        assertArrayEquals(px(0.2989f, 0.2989f, 0.2989f), s, 1e-6f);
        float[] c = {0f, 1f, 0f, 1f, 0f, 1f}; // 2 pixels, mean gray 0.5 (weights sum to 0.9999)
        Photometric.adjustContrast(c, 2, 0.5);
        float mean = 0.5f * 0.9999f;
        assertArrayEquals(
                new float[] {
                    0.5f * mean, 0.5f + 0.5f * mean, 0.5f * mean, 0.5f + 0.5f * mean, 0.5f * mean, 0.5f + 0.5f * mean
                },
                c,
                1e-6f);
    }

    @Test
    void shouldSolarizeFromThreshold128() {
        float[] x = {127 / 255f, 128 / 255f, 1f, 0f, 0.5f, 0.6f};
        Photometric.solarize(x);
        assertArrayEquals(new float[] {127 / 255f, 127 / 255f, 0f, 0f, 0.5f, 0.4f}, x, 1e-6f);
    }

    @Test
    void shouldReflectWithoutRepeatingTheEdge() {
        assertEquals(1, Photometric.reflect(-1, 5));
        assertEquals(4, Photometric.reflect(-4, 5));
        assertEquals(3, Photometric.reflect(5, 5));
        assertEquals(0, Photometric.reflect(8, 5));
        assertEquals(1, Photometric.reflect(-3, 2)); // wraps repeatedly for images smaller than the kernel
        assertEquals(0, Photometric.reflect(7, 1));
    }

    @Test
    void shouldBlurAnImpulseIntoANormalisedGaussian() {
        int size = 11;
        float[] img = new float[3 * size * size];
        img[5 * size + 5] = 1f; // channel 0 impulse in the centre
        Photometric.gaussianBlur(img, size, 9, 1.0, new Scratch());
        double sum = 0;
        for (int i = 0; i < size * size; i++) {
            sum += img[i];
        }
        assertEquals(1.0, sum, 1e-5);
        double g0 = 1;
        double g1 = Math.exp(-0.5);
        double norm = 0;
        for (int k = -4; k <= 4; k++) {
            norm += Math.exp(-0.5 * k * k);
        }
        assertEquals(g0 * g0 / (norm * norm), img[5 * size + 5], 1e-6);
        assertEquals(g0 * g1 / (norm * norm), img[5 * size + 6], 1e-6);
        assertEquals(g1 * g1 / (norm * norm), img[6 * size + 6], 1e-6);
    }

    /** The blur written straight from its definition: every tap through {@code reflect}, one pixel at a time. */
    private static void referenceBlur(float[] img, int size, int kernelSize, double sigma) {
        float[] kernel = new float[kernelSize];
        int half = kernelSize / 2;
        float sum = 0f;
        for (int k = 0; k < kernelSize; k++) {
            double x = (k - half) / sigma;
            kernel[k] = (float) Math.exp(-0.5 * x * x);
            sum += kernel[k];
        }
        for (int k = 0; k < kernelSize; k++) {
            kernel[k] /= sum;
        }
        float[] tmp = new float[img.length];
        for (int row = 0; row < 3 * size; row++) {
            for (int x = 0; x < size; x++) {
                float acc = 0f;
                for (int k = 0; k < kernelSize; k++) {
                    acc += kernel[k] * img[row * size + Photometric.reflect(x + k - half, size)];
                }
                tmp[row * size + x] = acc;
            }
        }
        for (int c = 0; c < 3; c++) {
            int base = c * size * size;
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    float acc = 0f;
                    for (int k = 0; k < kernelSize; k++) {
                        acc += kernel[k] * tmp[base + Photometric.reflect(y + k - half, size) * size + x];
                    }
                    img[base + y * size + x] = Geometric.clamp01(acc);
                }
            }
        }
    }

    @Test
    void theBlurShouldGiveTheFloatsOfItsDefinitionBitForBit() {
        Scratch scratch = new Scratch();
        SplittableRandom r = new SplittableRandom(5);
        for (int size : new int[] {98, 224, 9, 5, 1}) {
            float[] img = new float[3 * size * size];
            for (int i = 0; i < img.length; i++) {
                img[i] = (float) r.nextDouble();
            }
            float[] want = img.clone();
            double sigma = 0.1 + 1.9 * r.nextDouble();
            referenceBlur(want, size, 9, sigma);
            Photometric.gaussianBlur(img, size, 9, sigma, scratch);
            assertArrayEquals(want, img, "size " + size + ", sigma " + sigma);
        }
    }
}
