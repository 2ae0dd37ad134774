package dev.dinoj.pipeline.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
