package dev.dinoj.evaluation.metrics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class AccuracyTest {

    @Test
    void shouldCountTopOneTopFiveAndMeanPerClassByHand() {
        // 3 samples, 6 classes
        float[] scores = {
            9, 1, 0, 0, 0, 0, // label 0: rank 0
            5, 4, 3, 2, 1, 0, // label 5: rank 5 (outside the top 5)
            1, 1, 0, 0, 0, 0, // label 1: tie with class 0, which goes first → rank 1
        };
        Accuracy a = Accuracy.of(scores, 6, new int[] {0, 5, 1});
        assertEquals(100.0 / 3, a.top1(), 1e-9);
        assertEquals(200.0 / 3, a.top5(), 1e-9);
        // classes present: 0 (1/1), 5 (0/1), 1 (0/1) → 33.3
        assertEquals(100.0 / 3, a.meanPerClass(), 1e-9);
        assertEquals(3, a.n());
    }

    @Test
    void meanPerClassWeighsClassesNotSamples() {
        Accuracy a = Accuracy.ofPredictions(new int[] {0, 0, 0, 1}, new int[] {0, 0, 0, 0 + 2}, 3);
        assertEquals(75, a.top1(), 1e-9);
        assertEquals(50, a.meanPerClass(), 1e-9); // class 0: 100 %, class 2: 0 %
        assertFalse(a.hasTop5());
        assertThrows(IllegalArgumentException.class, () -> Accuracy.of(new float[5], 2, new int[] {0, 1}));
        assertEquals(
                Double.NaN, Accuracy.of(new float[] {1, 0}, 2, new int[] {0}).top5());
    }

    @Test
    void holdOutShouldBeASeededPartition() {
        HoldOut h = HoldOut.of(100, 0.1, 3);
        assertEquals(10, h.heldOut().length);
        assertEquals(90, h.train().length);
        boolean[] seen = new boolean[100];
        for (int i : h.train()) {
            seen[i] = true;
        }
        for (int i : h.heldOut()) {
            assertFalse(seen[i]);
            seen[i] = true;
        }
        assertArrayEquals(h.heldOut(), HoldOut.of(100, 0.1, 3).heldOut());
        assertThrows(IllegalArgumentException.class, () -> HoldOut.of(5, 0.1, 0));
    }

    @Test
    void jsonShouldKeepTheDigitsOfTheResultsAndEscapeStrings() {
        assertEquals(
                "{\"top1\":75.0000,\"mean_per_class\":66.6667}",
                Json.line(new Accuracy(75, Double.NaN, 200.0 / 3, 4).toJson()));
        assertEquals(
                "{\"top1\":12.3457,\"top5\":null,\"mean_per_class\":0.0000}",
                Json.line(new Accuracy(12.34565, Double.POSITIVE_INFINITY, 0, 4).toJson()),
                "not finite: null");
        assertEquals("0.0700000", Json.sci(0.07).toString());
        assertEquals("1.00000E-7", Json.sci(1e-7).toString());
        assertEquals(
                String.format(java.util.Locale.ROOT, "%.4f", 0.125),
                Json.num(0.125).toPlainString());
        var o = Json.object().put("s", "a\"b\n\u0001");
        assertEquals("{\"s\":\"a\\\"b\\n\\u0001\"}", Json.line(o));
        String line = "{\"eval\":\"knn\",\"T\":0.07,\"top1\":85.6000,\"C\":1.00000E-7}";
        assertEquals(line, Json.line(Json.parse(line)), "a protocol's line survives being read into the results log");
    }
}
