package dev.dinoj.pipeline.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.pipeline.data.RgbImage;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The two model-free embedders: what they are invariant to, and their known answers. */
class ThumbnailEmbeddersTest {

    static RgbImage image(long seed, double gain, double offset) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] chw = new float[3 * 28 * 28];
        for (int p = 0; p < 28 * 28; p++) {
            float v = (float) (offset + gain * r.nextDouble());
            chw[p] = v;
            chw[28 * 28 + p] = v;
            chw[2 * 28 * 28 + p] = v;
        }
        return new RgbImage(28, 28, chw);
    }

    static double cos(float[] e, int a, int b, int d) {
        double s = 0;
        for (int j = 0; j < d; j++) {
            s += e[a * d + j] * e[b * d + j];
        }
        return s;
    }

    @Test
    void thumbnailIsInvariantToBrightnessAndContrastPixelsAreNot() {
        List<RgbImage> imgs = List.of(image(1, 0.5, 0.1), image(1, 0.25, 0.6), image(2, 0.5, 0.1));
        float[] t = new ThumbnailEmbedder(14).embed(imgs);
        float[] p = new PixelEmbedder(14).embed(imgs);
        assertEquals(1.0, cos(t, 0, 0, 196), 1e-5, "unit norm");
        assertEquals(1.0, cos(p, 0, 0, 196), 1e-5, "unit norm");
        assertEquals(1.0, cos(t, 0, 1, 196), 1e-5, "same image at another gain and offset");
        assertTrue(cos(p, 0, 1, 196) < 0.9, "pixels keep the brightness: " + cos(p, 0, 1, 196));
        assertTrue(cos(t, 0, 2, 196) < 0.5, "another random image");
    }

    @Test
    void knownAnswers() {
        // a uniform image: the thumbnail embedder maps every blank image to e0; pixels give ±1/side everywhere
        RgbImage blank = image(3, 0, 0.8);
        float[] t = new ThumbnailEmbedder(4).embed(List.of(blank));
        assertEquals(1f, t[0]);
        assertEquals(0f, t[5]);
        float[] p = new PixelEmbedder(4).embed(List.of(blank));
        for (float v : p) {
            assertEquals(0.25f, v, 1e-6f);
        }
        assertThrows(IllegalArgumentException.class, () -> new PixelEmbedder(1));
        assertEquals("thumbnail-20", new ThumbnailEmbedder(20).id());
        assertEquals(400, new PixelEmbedder(20).dim());
    }
}
