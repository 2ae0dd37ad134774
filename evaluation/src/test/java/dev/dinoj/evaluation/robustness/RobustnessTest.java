package dev.dinoj.evaluation.robustness;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.evaluation.EvalTestData;
import dev.dinoj.evaluation.features.EvalDataset;
import dev.dinoj.evaluation.features.EvalFeatures;
import dev.dinoj.evaluation.features.FeatureCache;
import dev.dinoj.evaluation.features.FeatureKind;
import dev.dinoj.evaluation.features.ModelSource;
import dev.dinoj.evaluation.linear.LinearProbe;
import dev.dinoj.evaluation.transform.ImageOps;
import dev.dinoj.pipeline.data.RgbImage;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RobustnessTest {

    private static RgbImage gray(int w, int h, float... v) {
        float[] chw = new float[3 * w * h];
        for (int c = 0; c < 3; c++) {
            System.arraycopy(v, 0, chw, c * w * h, w * h);
        }
        return new RgbImage(w, h, chw);
    }

    @Test
    void contrastShouldPullTowardsTheMeanByTheSeverityFactor() {
        RgbImage img = gray(2, 2, 0f, 0.2f, 0.6f, 1f); // mean 0.45
        RgbImage out = Corruption.CONTRAST.apply(img, 1, null); // factor 0.4
        assertArrayEquals(new float[] {0.27f, 0.35f, 0.51f, 0.67f}, java.util.Arrays.copyOf(out.chw(), 4), 1e-6f);
        assertEquals(0.05, Corruption.CONTRAST.parameter(5), 0);
        assertEquals(7, Corruption.JPEG.parameter(5), 0);
    }

    @Test
    void blurOfAConstantImageIsConstantAndNoiseIsSeeded() {
        float[] v = new float[25];
        java.util.Arrays.fill(v, 0.3f);
        RgbImage flat = gray(5, 5, v);
        RgbImage blurred = Corruption.GAUSSIAN_BLUR.apply(flat, 5, null);
        for (float f : blurred.chw()) {
            assertEquals(0.3f, f, 1e-6f);
        }
        RgbImage a = Corruption.GAUSSIAN_NOISE.apply(flat, 3, new SplittableRandom(1));
        RgbImage b = Corruption.GAUSSIAN_NOISE.apply(flat, 3, new SplittableRandom(1));
        RgbImage c = Corruption.GAUSSIAN_NOISE.apply(flat, 3, new SplittableRandom(2));
        assertArrayEquals(a.chw(), b.chw());
        assertNotEquals(a.chw()[0], c.chw()[0]);
        assertTrue(ImageOps.isGray(a), "noise keeps a grayscale image grayscale");
        // a blurred impulse spreads and keeps its mass (away from the border)
        float[] imp = new float[81];
        imp[40] = 1f;
        RgbImage spread = ImageOps.gaussianBlur(gray(9, 9, imp), 1.0);
        double sum = 0;
        for (int i = 0; i < 81; i++) {
            sum += spread.chw()[i];
        }
        assertEquals(1.0, sum, 1e-5);
        assertTrue(spread.chw()[40] < 0.2f && spread.chw()[41] > 0.05f);
    }

    @Test
    void jpegAtHighQualityIsNearlyLosslessAndAtLowQualityIsNot() {
        RgbImage img = EvalTestData.test().images().image(0);
        RgbImage hi = ImageOps.jpeg(img, 100);
        RgbImage lo = Corruption.JPEG.apply(img, 5, null);
        assertTrue(maxDiff(img, hi) < 0.05, "quality 100: " + maxDiff(img, hi));
        assertTrue(maxDiff(img, lo) > maxDiff(img, hi), "quality 7 loses more");
    }

    private static double maxDiff(RgbImage a, RgbImage b) {
        double m = 0;
        for (int i = 0; i < a.chw().length; i++) {
            m = Math.max(m, Math.abs(a.chw()[i] - b.chw()[i]));
        }
        return m;
    }

    @Test
    void corruptedSetsShouldLowerPixelAccuracyWithSeverity() throws Exception {
        RobustnessEval.Settings s = new RobustnessEval.Settings(
                List.of(Corruption.GAUSSIAN_NOISE, Corruption.CONTRAST),
                new int[] {1, 5},
                20,
                0.07,
                new LinearProbe.Settings(new double[] {1e-2, 1e-1}, 3, 128, 0.1, 0, 0),
                0);
        EvalDataset test = EvalTestData.test();
        RobustnessResult r;
        try (EvalFeatures fx = new EvalFeatures(ModelSource.pixels(), FeatureCache.none(), 256, null)) {
            r = new RobustnessEval(s, null).run(fx, EvalTestData.train(), 1000, test, 200, FeatureKind.PIXELS);
        }
        System.out.print(r.toTable());
        assertEquals(4, r.rows().size());
        assertTrue(r.cleanKnn() > 60 && r.cleanLinear() > 60, r.toTable());
        RobustnessResult.Row noise5 = r.rows().get(1);
        assertEquals(Corruption.GAUSSIAN_NOISE, noise5.corruption());
        assertEquals(5, noise5.severity());
        // i.i.d. noise is nearly orthogonal to every training image, so a cosine k-NN on pixels hardly notices it;
        // contrast shrinks the signal against the normalisation offset and hurts more with severity
        RobustnessResult.Row contrast1 = r.rows().get(2);
        RobustnessResult.Row contrast5 = r.rows().get(3);
        assertTrue(contrast5.knnTop1() < contrast1.knnTop1() && contrast1.knnTop1() <= r.cleanKnn(), r.toTable());
        assertTrue(contrast5.linearTop1() < r.cleanLinear(), r.toTable());
        assertTrue(r.meanKnn() < r.cleanKnn(), r.toTable());
        RgbImage clean = test.images().image(3);
        RgbImage noisy = RobustnessEval.corrupted(test, Corruption.GAUSSIAN_NOISE, 5, 0)
                .images()
                .image(3);
        assertTrue(maxDiff(clean, noisy) > 0.5, "severity-5 noise is applied");
        // corrupted views are stable: the same id gives the same pixels
        assertArrayEquals(
                RobustnessEval.corrupted(test, Corruption.GAUSSIAN_NOISE, 3, 0)
                        .images()
                        .image(5)
                        .chw(),
                RobustnessEval.corrupted(test, Corruption.GAUSSIAN_NOISE, 3, 0)
                        .images()
                        .image(5)
                        .chw());
        JsonNode j = new ObjectMapper().readTree(r.toJson("pixels"));
        assertEquals(4, j.get("sets").size());
        assertEquals("robustness", j.get("eval").asText());
    }
}
