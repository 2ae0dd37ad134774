package dev.dinoj.evaluation.retrieval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.evaluation.EvalTestData;
import dev.dinoj.evaluation.features.EvalFeatures;
import dev.dinoj.evaluation.features.FeatureCache;
import dev.dinoj.evaluation.features.FeatureKind;
import dev.dinoj.evaluation.features.ModelSource;
import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.pipeline.data.RgbImage;
import org.junit.jupiter.api.Test;

class CopyDetectionTest {

    @Test
    void averagePrecisionShouldMatchHandComputedValues() {
        // positives at ranks 1 and 3 of 5: (1/1 + 2/3) / 2
        boolean[] pos = {true, false, true, false, false};
        assertEquals((1 + 2.0 / 3) / 2, CopyDetection.averagePrecision(new int[] {0, 1, 2, 3, 4}, pos), 1e-12);
        // positives last: (1/4 + 2/5) / 2
        assertEquals((0.25 + 0.4) / 2, CopyDetection.averagePrecision(new int[] {1, 3, 4, 0, 2}, pos), 1e-12);
        assertEquals(1.0, CopyDetection.averagePrecision(new int[] {2, 0, 1, 3, 4}, pos), 1e-12);
        assertEquals(0.0, CopyDetection.averagePrecision(new int[] {0, 1}, new boolean[] {false, false}));
    }

    @Test
    void exactCopiesShouldBeFoundPerfectlyAndRankingsScored() {
        // 2 queries on orthogonal axes; copies identical to their query; distractors in between
        FeatureSet q = FeatureSet.of(new float[][] {{1, 0, 0}, {0, 1, 0}}, new int[] {0, 1});
        FeatureSet c =
                FeatureSet.of(new float[][] {{2, 0, 0}, {3, 0, 0}, {0, 1, 0}, {0, 5, 0}}, new int[] {0, 0, 1, 1});
        FeatureSet d = FeatureSet.of(new float[][] {{1, 1, 0}, {0, 0, 1}}, new int[] {2, 3});
        RetrievalResult r = new CopyDetection(new CopyDetection.Settings(2, 2, 2, 0.6, 0)).evaluate(q, c, d);
        assertEquals(100, r.map(), 1e-9);
        assertEquals(100, r.recallAt1(), 1e-9);
        // a query whose copies sit behind a distractor: ranks 2 and 3 → AP (1/2 + 2/3) / 2
        FeatureSet q2 = FeatureSet.of(new float[][] {{1, 1, 0}}, new int[] {0});
        FeatureSet c2 = FeatureSet.of(new float[][] {{1, 0.5f, 0}, {1, 0.4f, 0}}, new int[] {0, 0});
        FeatureSet d2 = FeatureSet.of(new float[][] {{1, 1.01f, 0}, {0, 0, 1}}, new int[] {1, 2});
        RetrievalResult r2 = new CopyDetection(new CopyDetection.Settings(1, 2, 2, 0.6, 0)).evaluate(q2, c2, d2);
        assertEquals(100 * (0.5 + 2.0 / 3) / 2, r2.map(), 1e-9);
        assertEquals(0, r2.recallAt1(), 1e-9);
    }

    @Test
    void copiesShouldBeDeterministicAndEdited() {
        RgbImage img = EvalTestData.train().images().image(0);
        RgbImage a = CopyDetection.copy(img, 0.6, 3, 5);
        RgbImage b = CopyDetection.copy(img, 0.6, 3, 5);
        assertArrayEquals(a.chw(), b.chw());
        assertEquals(img.width(), a.width());
        double diff = 0;
        for (int i = 0; i < img.chw().length; i++) {
            diff += Math.abs(img.chw()[i] - a.chw()[i]);
        }
        assertTrue(diff > 1, "a copy is edited");
    }

    @Test
    void pixelCopyDetectionOnFashionMnistShouldBeatChance() {
        CopyDetection cd =
                new CopyDetection(new CopyDetection.Settings(40, 2, 300, CopyDetection.DEFAULT_CROP_SCALE_MIN, 0));
        CopyDetection.Sets sets = cd.sets(EvalTestData.test());
        RetrievalResult r;
        try (EvalFeatures fx = new EvalFeatures(ModelSource.pixels(), FeatureCache.none(), 256, null)) {
            FeatureSet q = fx.get(sets.queries(), 0, FeatureKind.PIXELS);
            FeatureSet c = fx.get(sets.copies(), 0, FeatureKind.PIXELS);
            FeatureSet d = fx.get(sets.distractors(), 0, FeatureKind.PIXELS);
            assertEquals(40, q.n());
            assertEquals(80, c.n());
            assertEquals(300, d.n());
            assertEquals(0, c.labels()[1]);
            assertEquals(1, c.labels()[2]);
            r = cd.evaluate(q, c, d);
        }
        System.out.print(r.toTable());
        assertEquals(380, r.nDatabase());
        // chance: 2 positives among 380 → AP ≈ 1 %; raw pixels do poorly on crops (they are not shift-invariant)
        assertTrue(r.map() > 8, "pixel copy detection mAP " + r.map());
        assertTrue(r.toJson("pixels").contains("\"mAP\":"));
    }
}
