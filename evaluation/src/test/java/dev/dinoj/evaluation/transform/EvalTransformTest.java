package dev.dinoj.evaluation.transform;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.dinoj.pipeline.augment.Geometric;
import dev.dinoj.pipeline.data.RgbImage;
import org.junit.jupiter.api.Test;

class EvalTransformTest {

    /** A w×h image whose values all differ: {@code chw[i] = i / (3 w h)}. */
    private static RgbImage numbered(int w, int h) {
        float[] chw = new float[3 * w * h];
        for (int i = 0; i < chw.length; i++) {
            chw[i] = i / (float) chw.length;
        }
        return new RgbImage(w, h, chw);
    }

    @Test
    void centreCropShouldRoundHalvesToEvenAsTorchvision() {
        RgbImage img = numbered(7, 5);
        // torchvision: top = int(round((5 - 4) / 2.0)) = round(0.5) = 0, left = int(round((7 - 4) / 2.0)) = round(1.5)
        // = 2
        RgbImage c4 = EvalTransform.centreCrop(img, 4);
        assertEquals(4, c4.width());
        assertEquals(4, c4.height());
        assertEquals(img.get(0, 2, 0), c4.get(0, 0, 0));
        assertEquals(img.get(2, 5, 3), c4.get(2, 3, 3));
        // top = round(1.0) = 1, left = round(2.0) = 2
        RgbImage c3 = EvalTransform.centreCrop(img, 3);
        assertEquals(img.get(1, 2, 1), c3.get(1, 0, 0));
        // 8 x 6 to 3: top = round(1.5) = 2, left = round(2.5) = 2
        RgbImage even = numbered(8, 6);
        assertEquals(even.get(0, 2, 2), EvalTransform.centreCrop(even, 3).get(0, 0, 0));
        RgbImage square = numbered(5, 5);
        assertSame(square, EvalTransform.centreCrop(square, 5));
        assertThrows(IllegalArgumentException.class, () -> EvalTransform.centreCrop(img, 6));
    }

    @Test
    void applyShouldResizeTheShorterSideThenCropTheCentre() {
        RgbImage photo = numbered(640, 480);
        RgbImage out = new EvalTransform(256, 224).apply(photo);
        assertEquals(224, out.width());
        assertEquals(224, out.height());
        // torchvision's Resize(256): 480 -> 256, 640 -> int(256 * 640 / 480) = 341; crop left = round(58.5) = 58, top
        // 16
        RgbImage resized = Geometric.resizeShorterSide(photo, 256);
        assertEquals(341, resized.width());
        assertEquals(resized.get(1, 58, 16), out.get(1, 0, 0));
        assertEquals(resized.get(2, 58 + 223, 16 + 223), out.get(2, 223, 223));
        // portrait: the crop is vertical
        RgbImage tall = new EvalTransform(20, 16).apply(numbered(30, 60));
        assertEquals(16, tall.width());
        assertEquals(16, tall.height());
    }

    @Test
    void defaultsShouldBeDinov2sForLargeModelsAndScaledForSmallOnes() {
        assertEquals(new EvalTransform(256, 224), EvalTransform.forInputSize(224));
        assertEquals(new EvalTransform(256, 224), EvalTransform.forInputSize(518));
        assertEquals(new EvalTransform(256, 224), EvalTransform.forInputSize(0));
        assertEquals(new EvalTransform(18, 16), EvalTransform.forInputSize(16));
        assertEquals(new EvalTransform(37, 32), EvalTransform.forInputSize(32));
        assertEquals("resize256-crop224", EvalTransform.forInputSize(224).id());
        assertThrows(IllegalArgumentException.class, () -> new EvalTransform(200, 224));
        assertThrows(IllegalArgumentException.class, () -> new EvalTransform(10, 0));
    }
}
