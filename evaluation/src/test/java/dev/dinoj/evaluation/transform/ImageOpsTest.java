package dev.dinoj.evaluation.transform;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.evaluation.EvalTestData;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.RgbImage;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ImageOpsTest {

    /** A w×h gray image with pixel (x, y) = values[y * w + x]. */
    private static RgbImage gray(int w, int h, float... v) {
        float[] chw = new float[3 * w * h];
        for (int c = 0; c < 3; c++) {
            System.arraycopy(v, 0, chw, c * w * h, w * h);
        }
        return new RgbImage(w, h, chw);
    }

    private static float[] plane(RgbImage img) {
        return java.util.Arrays.copyOf(img.chw(), img.planeSize());
    }

    @Test
    void flipCropAndResizeShouldMoveKnownPixels() {
        RgbImage img = gray(3, 2, 0.0f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f);
        assertArrayEquals(new float[] {0.2f, 0.1f, 0.0f, 0.5f, 0.4f, 0.3f}, plane(ImageOps.flipHorizontal(img)));
        assertArrayEquals(new float[] {0.4f, 0.5f}, plane(ImageOps.crop(img, 1, 1, 2, 1)));
        // 2x2 → 4x4 bilinear, align_corners=False: as F.interpolate
        RgbImage up = ImageOps.resize(gray(2, 2, 0f, 0.4f, 0.8f, 1f), 4, 4);
        assertArrayEquals(
                new float[] {
                    0f, 0.1f, 0.3f, 0.4f, 0.2f, 0.2875f, 0.4625f, 0.55f, 0.6f, 0.6625f, 0.7875f, 0.85f, 0.8f, 0.85f,
                    0.95f, 1f
                },
                plane(up),
                1e-6f);
        assertArrayEquals(plane(img), plane(ImageOps.resize(img, 3, 2)), 1e-7f, "same size is the identity");
    }

    @Test
    void brightnessClampsAndRandomCropsAreSeeded() {
        RgbImage img = gray(2, 1, 0.5f, 0.8f);
        assertArrayEquals(new float[] {0.75f, 1f}, plane(ImageOps.brightness(img, 1.5)), 1e-6f);
        RgbImage src = EvalTestData.synthetic(1, 28, 1).image(0);
        RgbImage a = ImageOps.randomResizedCrop(src, 0.4, 1, new SplittableRandom(5));
        RgbImage b = ImageOps.randomResizedCrop(src, 0.4, 1, new SplittableRandom(5));
        assertArrayEquals(a.chw(), b.chw());
        assertEquals(28, a.width());
    }

    @Test
    void viewsShouldMapIndicesTransformsAndLabels() {
        ImageDataset base = EvalTestData.synthetic(10, 8, 5);
        ImageDataset sub = DatasetViews.subset(base, new int[] {7, 2}, "two");
        assertEquals(2, sub.size());
        assertEquals(base.label(7), sub.label(0));
        assertArrayEquals(base.image(2).chw(), sub.image(1).chw());
        ImageDataset flipped =
                DatasetViews.mapped(base, new int[] {3}, (i, im) -> ImageOps.flipHorizontal(im), i -> 42, "flipped");
        assertEquals(42, flipped.label(0));
        assertArrayEquals(
                ImageOps.flipHorizontal(base.image(3)).chw(), flipped.image(0).chw());
        assertTrue(flipped.describe().contains("flipped"));
        assertEquals(4, DatasetViews.first(base, 4).size());
    }
}
