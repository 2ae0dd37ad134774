package dev.dinoj.evaluation.knn;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

class KnnResultTest {

    @Test
    void shouldWriteOneLineOfJson() {
        KnnResult r = new KnnResult(
                0.07,
                10,
                60000,
                10000,
                0,
                1,
                List.of(new KnnAccuracy(10, 85.6, 98.125, 85.5), new KnnAccuracy(20, 84.6, 98.5, 100.0 * 2 / 3)));
        assertEquals(
                "{\"eval\":\"knn\",\"T\":0.07,\"num_classes\":10,\"n_train\":60000,\"n_test\":10000,"
                        + "\"k\":{\"10\":{\"top1\":85.6000,\"top5\":98.1250,\"mean_per_class\":85.5000},"
                        + "\"20\":{\"top1\":84.6000,\"top5\":98.5000,\"mean_per_class\":66.6667}}}",
                r.toJson());
    }

    @Test
    void shouldLeaveTop5OutBelowFiveClassesAndNameFewShot() {
        KnnResult r = new KnnResult(0.1, 3, 15, 6, 5, 2, List.of(new KnnAccuracy(5, 50, Double.NaN, 40)));
        assertEquals(
                "{\"eval\":\"knn\",\"T\":0.1,\"num_classes\":3,\"n_train\":15,\"n_test\":6,"
                        + "\"n_per_class\":5,\"tries\":2,\"k\":{\"5\":{\"top1\":50.0000,\"mean_per_class\":40.0000}}}",
                r.toJson());
        assertEquals(
                ""
                        + "k-NN  T=0.1  classes=3  train=15  test=6\n"
                        + "few-shot: 5 per class, mean of 2 tries\n"
                        + "     k   top-1 %   top-5 %   mean/class %\n"
                        + "     5     50.00         -          40.00\n",
                r.toTable());
    }
}
