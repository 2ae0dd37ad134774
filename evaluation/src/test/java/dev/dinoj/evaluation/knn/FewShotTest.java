package dev.dinoj.evaluation.knn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

class FewShotTest {

    // classes interleaved: 0,1,2,0,1,2,... plus 2 extra samples of class 0 at the end (class 0 has 6, others 4)
    private static final int[] LABELS = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 0};

    @Test
    void shouldKeepTheFirstSamplesOfEachClassGroupedByClass() {
        assertArrayEquals(new int[] {0, 3, 1, 4, 2, 5}, FewShot.first(2).select(LABELS, 0));
        // a class with fewer samples than asked keeps them all
        int[] all = FewShot.first(5).select(LABELS, 0);
        assertArrayEquals(new int[] {0, 3, 6, 9, 12, 1, 4, 7, 10, 2, 5, 8, 11}, all);
    }

    @Test
    void shouldDrawSeededRandomSubsetsOfEachClass() {
        FewShot fs = FewShot.random(3, 4, 42);
        int[] a = fs.select(LABELS, 0);
        assertArrayEquals(a, fs.select(LABELS, 0)); // deterministic
        assertArrayEquals(a, FewShot.random(3, 4, 42).select(LABELS, 0)); // from (seed, try) alone
        Set<String> draws = new HashSet<>();
        for (int t = 0; t < 4; t++) {
            int[] rows = fs.select(LABELS, t);
            assertEquals(9, rows.length);
            assertEquals(9, Arrays.stream(rows).distinct().count());
            for (int i = 0; i < rows.length; i++) {
                assertEquals(i / 3, LABELS[rows[i]], "grouped by class, 3 each");
            }
            draws.add(Arrays.toString(rows));
        }
        assertTrue(draws.size() > 1, "tries must differ: " + draws);
        assertFalse(Arrays.equals(a, FewShot.random(3, 4, 43).select(LABELS, 0))
                && Arrays.equals(fs.select(LABELS, 1), FewShot.random(3, 4, 43).select(LABELS, 1)));
    }

    @Test
    void shouldEvaluateTheOfficialKsUpToNPerClass() {
        int[] ks = KnnEvaluator.DEFAULT_KS;
        assertArrayEquals(new int[] {5}, FewShot.first(5).ks(ks));
        assertArrayEquals(new int[] {10, 20}, FewShot.first(20).ks(ks));
        assertArrayEquals(new int[] {10, 20, 50}, FewShot.first(50).ks(ks));
        assertThrows(IllegalArgumentException.class, () -> new FewShot(2, 3, FewShot.Sampling.FIRST, 0));
    }

    @Test
    void shouldAverageFewShotTriesOnStructuredImages() {
        Random rnd = new Random(99);
        FeatureSet train = KnnEvaluatorTest.blobImages(rnd, 10, 60);
        FeatureSet test = KnnEvaluatorTest.blobImages(rnd, 10, 20);
        KnnEvaluator knn = KnnEvaluator.builder().build();
        KnnResult r = knn.evaluate(train, test, FewShot.random(10, 3, 0));
        assertEquals(10, r.nPerClass());
        assertEquals(3, r.tries());
        assertEquals(100, r.nTrain());
        assertEquals(1, r.accuracies().size());
        assertEquals(10, r.accuracies().get(0).k());
        assertTrue(r.forK(10).top1() > 90, r.toTable());
        assertTrue(r.toJson().contains("\"n_per_class\":10,\"tries\":3"), r.toJson());

        // one try of FIRST equals evaluating the subset by hand
        KnnResult first = knn.evaluate(train, test, FewShot.first(20));
        KnnResult byHand = KnnEvaluator.builder()
                .optKs(10, 20)
                .build()
                .evaluate(train.subset(FewShot.first(20).select(train.labels(), 0)), test);
        assertEquals(byHand.accuracies(), first.accuracies());
    }
}
