package dev.dinoj.evaluation.dense;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.evaluation.EvalTestData;
import dev.dinoj.evaluation.features.EvalFeatures;
import dev.dinoj.evaluation.features.FeatureCache;
import dev.dinoj.evaluation.features.FeatureKind;
import dev.dinoj.evaluation.features.ModelSource;
import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.evaluation.logreg.LogRegSweep;
import dev.dinoj.pipeline.data.RgbImage;
import org.junit.jupiter.api.Test;

class DenseProbeTest {

    @Test
    void iouShouldMatchAHandCountedConfusionMatrix() {
        SegmentationMetrics m = new SegmentationMetrics(2);
        //            labels: 0 0 0 1 1 1 1 1
        //         predicted: 0 0 1 1 1 1 0 1
        m.add(new int[] {0, 0, 1, 1, 1, 1, 0, 1}, new int[] {0, 0, 0, 1, 1, 1, 1, 1});
        // class 0: TP 2, FP 1, FN 1 → 2/4; class 1: TP 4, FP 1, FN 1 → 4/6
        assertEquals(0.5, m.iou()[0], 1e-12);
        assertEquals(4.0 / 6, m.iou()[1], 1e-12);
        assertEquals((0.5 + 4.0 / 6) / 2, m.meanIou(), 1e-12);
        assertEquals(6.0 / 8, m.accuracy(), 1e-12);
        SegmentationMetrics only = new SegmentationMetrics(2);
        only.add(new int[] {1, 1}, new int[] {1, 1});
        assertEquals(1.0, only.meanIou(), 1e-12, "an absent class does not count (nanmean)");
    }

    @Test
    void upsampleShouldBePyTorchBilinearWithoutAlignCorners() {
        // F.interpolate([[0, 1], [2, 3]], size=4, mode="bilinear", align_corners=False)
        float[] up = DenseProbe.upsample(new float[] {0, 1, 2, 3}, 2, 4);
        assertArrayEquals(
                new float[] {0, 0.25f, 0.75f, 1, 0.5f, 0.75f, 1.25f, 1.5f, 1.5f, 1.75f, 2.25f, 2.5f, 2, 2.25f, 2.75f, 3
                },
                up,
                1e-6f);
    }

    @Test
    void labelsShouldThresholdPixelsAndTakePatchMajorities() {
        // 8x8 image, left half bright: patch 4 at size 8 → patches (0,0),(1,0) fg; (0,1),(1,1) bg
        float[] chw = new float[3 * 64];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 4; x++) {
                    chw[c * 64 + y * 8 + x] = 0.8f;
                }
            }
        }
        int[][] l = DenseProbe.labels(new RgbImage(8, 8, chw), 8, 4, 0.1);
        assertEquals(32, java.util.Arrays.stream(l[0]).sum());
        assertArrayEquals(new int[] {1, 0, 1, 0}, l[1]);
    }

    @Test
    void rawPixelPatchesShouldSegmentFashionMnistForeground() {
        FeatureSet train;
        FeatureSet test;
        int size;
        int patch;
        try (EvalFeatures fx = new EvalFeatures(ModelSource.pixels(), FeatureCache.none(), 256, null)) {
            size = fx.evalSize(EvalTestData.train());
            patch = fx.patchSize();
            train = fx.get(EvalTestData.train(), 200, FeatureKind.PATCH_TOKENS);
            test = fx.get(EvalTestData.test(), 100, FeatureKind.PATCH_TOKENS);
        }
        assertEquals(28, size);
        assertEquals(49 * 3 * 16, train.dim());
        DenseProbe probe = new DenseProbe(new DenseProbe.Settings(0.1, LogRegSweep.grid(-2, 1, 3), 0.2, 0, 100));
        DenseResult r = probe.run(train, EvalTestData.train(), test, EvalTestData.test(), size, patch);
        System.out.print(r.toTable());
        assertEquals(7, r.grid());
        assertTrue(r.patchMiou() > 80, "patch mIoU from raw pixels " + r.patchMiou());
        assertTrue(r.pixelMiou() > 70, "pixel mIoU from raw pixels " + r.pixelMiou());
        assertTrue(r.toJson("pixels").contains("\"mIoU\":"));
    }
}
