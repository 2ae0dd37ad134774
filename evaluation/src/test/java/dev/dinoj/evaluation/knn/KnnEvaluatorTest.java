package dev.dinoj.evaluation.knn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.testkit.RandomArrays;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class KnnEvaluatorTest {

    private static final double T = 0.07;

    /** A 2-D point at {@code degrees} with length {@code length}. */
    private static float[] polar(double degrees, double length) {
        double r = Math.toRadians(degrees);
        return new float[] {(float) (length * Math.cos(r)), (float) (length * Math.sin(r))};
    }

    // Train: 6 points in 2-D, 3 classes, unequal lengths (normalisation must remove them).
    private static final double[] TRAIN_DEG = {0, 50, 55, 100, 170, 250};
    private static final double[] TRAIN_LEN = {3, 0.5, 2, 1, 4, 0.7};
    private static final int[] TRAIN_LABELS = {0, 1, 1, 2, 2, 0};
    // Queries: q0 at 10° (class 0), q1 at 70° (class 1), q2 at 200° (class 0, lands next to a class-2 point).
    private static final double[] TEST_DEG = {10, 70, 200};
    private static final double[] TEST_LEN = {5, 0.2, 1};
    private static final int[] TEST_LABELS = {0, 1, 0};

    private static FeatureSet handTrain() {
        float[][] rows = new float[TRAIN_DEG.length][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = polar(TRAIN_DEG[i], TRAIN_LEN[i]);
        }
        return FeatureSet.of(rows, TRAIN_LABELS);
    }

    private static FeatureSet handTest() {
        float[][] rows = new float[TEST_DEG.length][];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = polar(TEST_DEG[i], TEST_LEN[i]);
        }
        return FeatureSet.of(rows, TEST_LABELS);
    }

    /**
     * The official vote by hand: cosine = cos(angle difference); neighbours sorted by it; weights exp(sim / T)
     * normalised over the maxK neighbours (softmax); class score for k = sum of the first k weights of the class.
     */
    private static double[] handScores(double queryDeg, int k, int maxK, int classes) {
        Integer[] order = new Integer[TRAIN_DEG.length];
        double[] sim = new double[TRAIN_DEG.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
            sim[i] = Math.cos(Math.toRadians(queryDeg - TRAIN_DEG[i]));
        }
        Arrays.sort(order, Comparator.comparingDouble(i -> -sim[i]));
        double z = 0;
        for (int j = 0; j < maxK; j++) {
            z += Math.exp(sim[order[j]] / T);
        }
        double[] scores = new double[classes];
        for (int j = 0; j < k; j++) {
            scores[TRAIN_LABELS[order[j]]] += Math.exp(sim[order[j]] / T) / z;
        }
        return scores;
    }

    private static int majority(double queryDeg, int k, int classes) {
        Integer[] order = new Integer[TRAIN_DEG.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, Comparator.comparingDouble(i -> -Math.cos(Math.toRadians(queryDeg - TRAIN_DEG[i]))));
        int[] votes = new int[classes];
        for (int j = 0; j < k; j++) {
            votes[TRAIN_LABELS[order[j]]]++;
        }
        return KnnEvaluator.argmax(Arrays.stream(votes).asDoubleStream().toArray());
    }

    @Test
    void shouldMatchTheOfficialWeightedVoteComputedByHand() {
        int[] ks = {1, 3, 6};
        KnnEvaluator knn = KnnEvaluator.builder()
                .optKs(ks)
                .optTemperature(T)
                .optNumClasses(3)
                .build();
        FeatureSet train = handTrain();
        FeatureSet test = handTest();

        // class scores of every (query, k) against the hand computation
        double[][][] got = new double[TEST_DEG.length][ks.length][];
        knn.vote(train, test, ks, 3, (q, ki, scores) -> got[q][ki] = scores.clone(), null);
        for (int q = 0; q < TEST_DEG.length; q++) {
            for (int ki = 0; ki < ks.length; ki++) {
                assertArrayEquals(
                        handScores(TEST_DEG[q], ks[ki], 6, 3),
                        got[q][ki],
                        1e-4,
                        "scores of query " + q + ", k=" + ks[ki]);
            }
        }

        // q0, k = 3: neighbours t0 (class 0, cos 10°), t1 and t2 (class 1, cos 40° and 45°).
        // Majority says class 1; exp(cos10°/T) = 1.29e6 outweighs exp(cos40°/T) + exp(cos45°/T) = 8.1e4: class 0.
        double[] q0 = handScores(10, 3, 6, 3);
        assertTrue(q0[0] > 10 * q0[1], Arrays.toString(q0));
        assertEquals(1, majority(10, 3, 3));

        KnnPredictions p = knn.predict(train, test);
        assertArrayEquals(new int[] {0, 1, 2}, p.forK(1));
        assertArrayEquals(new int[] {0, 1, 2}, p.forK(3)); // majority would give {1, 1, 2}
        assertArrayEquals(new int[] {0, 1, 2}, p.forK(6));
        for (int q = 0; q < TEST_DEG.length; q++) {
            for (int k : ks) {
                assertEquals(KnnEvaluator.argmax(handScores(TEST_DEG[q], k, 6, 3)), p.forK(k)[q]);
            }
        }

        // q2 (class 0) is wrong for every k: top-1 2/3; classes: 0 -> 1/2, 1 -> 1/1, mean 75 %; no top-5 (C = 3)
        KnnResult r = knn.evaluate(train, test);
        for (int k : ks) {
            KnnAccuracy a = r.forK(k);
            assertEquals(100.0 * 2 / 3, a.top1(), 1e-9);
            assertEquals(75.0, a.meanPerClass(), 1e-9);
            assertFalse(a.hasTop5());
        }
        assertEquals(6, r.nTrain());
        assertEquals(3, r.nTest());
    }

    @Test
    void shouldGiveEveryTrainPointItsOwnLabelWithOneNeighbour() {
        Random rnd = new Random(7);
        int n = 300;
        int d = 32;
        float[] data = new float[n * d];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            double scale = Math.exp(rnd.nextDouble() * 5 - 2.5); // lengths from 0.08 to 12
            for (int j = 0; j < d; j++) {
                data[i * d + j] = (float) (rnd.nextGaussian() * scale);
            }
            labels[i] = rnd.nextInt(7);
        }
        FeatureSet set = new FeatureSet(data, n, d, labels);
        for (int trainChunk : new int[] {Integer.MAX_VALUE, 64}) {
            KnnEvaluator knn = KnnEvaluator.builder()
                    .optKs(1)
                    .optQueryChunkSize(50)
                    .optTrainChunkSize(trainChunk)
                    .build();
            assertArrayEquals(labels, knn.predict(set, set).forK(1));
            KnnResult r = knn.evaluate(set, set);
            assertEquals(100.0, r.forK(1).top1());
            assertEquals(100.0, r.forK(1).top5());
            assertEquals(100.0, r.forK(1).meanPerClass());
            assertEquals(7, r.numClasses());
        }
    }

    @Test
    void shouldNotDependOnChunkSizes() {
        Random rnd = new Random(11);
        FeatureSet train = gaussian(rnd, 500, 24, 8);
        FeatureSet test = gaussian(rnd, 137, 24, 8);
        int[] ks = {1, 5, 20, 50};
        KnnEvaluator base =
                KnnEvaluator.builder().optKs(ks).optQueryChunkSize(1000).build();
        KnnResult expected = base.evaluate(train, test);
        KnnPredictions expectedPred = base.predict(train, test);
        for (int queryChunk : new int[] {1, 7, 1000}) {
            for (int trainChunk : new int[] {Integer.MAX_VALUE, 60, 500}) {
                KnnEvaluator knn = KnnEvaluator.builder()
                        .optKs(ks)
                        .optQueryChunkSize(queryChunk)
                        .optTrainChunkSize(trainChunk)
                        .build();
                String where = "query chunk " + queryChunk + ", train chunk " + trainChunk;
                assertEquals(expected, knn.evaluate(train, test), where);
                KnnPredictions pred = knn.predict(train, test);
                for (int k : ks) {
                    assertArrayEquals(expectedPred.forK(k), pred.forK(k), where + ", k=" + k);
                }
            }
        }
        // random data with 8 classes: not degenerate (some right, some wrong)
        assertTrue(expected.forK(1).top1() > 0 && expected.forK(1).top1() < 50, expected.toJson());
    }

    @Test
    void shouldSeparateMeanPerClassFromTop1OnImbalancedClasses() {
        // class 0 train around 0°, class 1 around 90°
        float[][] trainRows = {polar(-5, 1), polar(0, 1), polar(5, 1), polar(85, 1), polar(90, 1), polar(95, 1)};
        FeatureSet train = FeatureSet.of(trainRows, new int[] {0, 0, 0, 1, 1, 1});
        // 8 class-0 queries near 0° (all right); 2 class-1 queries: 80° (right) and 30° (nearer class 0: wrong)
        List<float[]> rows = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            rows.add(polar(-20 + 5 * i, 1 + i));
            labels.add(0);
        }
        rows.add(polar(80, 1));
        labels.add(1);
        rows.add(polar(30, 1));
        labels.add(1);
        FeatureSet test = FeatureSet.of(
                rows.toArray(new float[0][]), labels.stream().mapToInt(x -> x).toArray());

        KnnResult r = KnnEvaluator.builder().optKs(1, 3).build().evaluate(train, test);
        double top1 = 100.0 * 9 / 10; // 9 of 10 queries right
        double meanPerClass = 100.0 * (8.0 / 8 + 1.0 / 2) / 2; // class 0: 8/8, class 1: 1/2
        for (int k : new int[] {1, 3}) {
            assertEquals(top1, r.forK(k).top1(), 1e-9);
            assertEquals(meanPerClass, r.forK(k).meanPerClass(), 1e-9);
        }
        assertNotEquals(r.forK(1).top1(), r.forK(1).meanPerClass());
    }

    @Test
    void shouldClassifyStructuredImagesFromRawPixelsAndFallToChanceWithRandomLabels() {
        int classes = 10;
        Random rnd = new Random(2024);
        FeatureSet train = blobImages(rnd, classes, 100);
        FeatureSet test = blobImages(rnd, classes, 30);
        KnnEvaluator knn = KnnEvaluator.builder().optNumClasses(classes).build(); // 10, 20, 100, 200; T = 0.07
        KnnResult r = knn.evaluate(train, test);
        for (int k : KnnEvaluator.DEFAULT_KS) {
            KnnAccuracy a = r.forK(k);
            assertTrue(a.top1() > 95, r.toTable());
            assertTrue(a.meanPerClass() > 95, r.toTable());
            assertTrue(a.top5() >= a.top1(), r.toTable());
        }

        int[] shuffled = train.labels().clone();
        for (int i = shuffled.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = shuffled[i];
            shuffled[i] = shuffled[j];
            shuffled[j] = t;
        }
        FeatureSet randomLabels = new FeatureSet(train.data(), train.n(), train.dim(), shuffled);
        KnnResult chance = knn.evaluate(randomLabels, test);
        for (int k : KnnEvaluator.DEFAULT_KS) {
            double top1 = chance.forK(k).top1();
            assertTrue(top1 > 2 && top1 < 22, "chance is 10 %: " + chance.toTable());
            double top5 = chance.forK(k).top5();
            assertTrue(top5 > 35 && top5 < 65, "top-5 chance is 50 %: " + chance.toTable());
        }
    }

    @Test
    void shouldReleaseEveryChunkArray() {
        Random rnd = new Random(3);
        FeatureSet train = gaussian(rnd, 100, 16, 4);
        FeatureSet test = gaussian(rnd, 40, 16, 4);
        KnnEvaluator knn = KnnEvaluator.builder()
                .optKs(3, 10)
                .optQueryChunkSize(5)
                .optTrainChunkSize(30)
                .build();
        List<Integer> live = new ArrayList<>();
        knn.vote(
                train,
                test,
                new int[] {3, 10},
                4,
                (q, k, s) -> {},
                (chunk, manager) -> live.add(manager.getManagedArrays().size()));
        assertEquals(8, live.size()); // 40 queries / 5
        for (int count : live) {
            assertEquals(4, count, "only the 4 train chunks may stay alive: " + live);
        }
    }

    @Test
    void shouldCountTop5ByScoreThenClassIndex() {
        // one train point per class, class c at 60c degrees; C = 6
        float[][] trainRows = new float[6][];
        for (int c = 0; c < 6; c++) {
            trainRows[c] = polar(60 * c, 1 + c);
        }
        FeatureSet train = FeatureSet.of(trainRows, new int[] {0, 1, 2, 3, 4, 5});
        // (angle, label): a 5°/5, b 295°/4, c 5°/3, d 125°/2, e 295°/3
        float[][] testRows = {polar(5, 1), polar(295, 1), polar(5, 1), polar(125, 1), polar(295, 1)};
        FeatureSet test = FeatureSet.of(testRows, new int[] {5, 4, 3, 2, 3});
        KnnResult r = KnnEvaluator.builder().optKs(1, 6).build().evaluate(train, test);

        // k = 1: one class scores, the other five tie at 0 and rank by index.
        // a: 0 > 1,2,3,4 > 5 -> 5 is 6th, miss; b: 5 > 0,1,2,3 > 4 -> miss; c: 0 > 1,2 > 3 -> 4th, hit;
        // d: top-1 hit; e: 5 > 0,1,2 > 3 -> 5th, hit. Only d is top-1 right.
        assertEquals(20.0, r.forK(1).top1(), 1e-9);
        assertEquals(60.0, r.forK(1).top5(), 1e-9);
        // per class over the classes present in the test set (2, 3, 4, 5): 100, 0, 0, 0
        assertEquals(25.0, r.forK(1).meanPerClass(), 1e-9);

        // k = 6: every class scores, by angle. a: 0,1,5,.. (5 is 3rd) hit; b: 5,4 hit; c: 3 is farthest, miss;
        // d: hit; e: 5,4,3 hit.
        assertEquals(20.0, r.forK(6).top1(), 1e-9);
        assertEquals(80.0, r.forK(6).top5(), 1e-9);
    }

    @Test
    void shouldRankTiesByClassIndex() {
        double[] scores = {0.5, 0, 0, 0.5, 0, 0};
        assertEquals(0, KnnEvaluator.argmax(scores));
        assertEquals(1, KnnEvaluator.rank(scores, 3));
        assertEquals(2, KnnEvaluator.rank(scores, 1));
        assertEquals(5, KnnEvaluator.rank(scores, 5)); // sixth place: outside the top 5
    }

    @Test
    void shouldRejectBadInputs() {
        Random rnd = new Random(5);
        FeatureSet train = gaussian(rnd, 20, 4, 3);
        FeatureSet test = gaussian(rnd, 5, 4, 3);
        KnnEvaluator k200 = KnnEvaluator.builder().build();
        assertThrows(IllegalArgumentException.class, () -> k200.evaluate(train, test)); // 200 > 20 train samples
        KnnEvaluator k5 = KnnEvaluator.builder().optKs(5).optNumClasses(2).build();
        assertThrows(IllegalArgumentException.class, () -> k5.evaluate(train, test)); // labels up to 2 >= C
        KnnEvaluator ok = KnnEvaluator.builder().optKs(5).build();
        assertThrows(IllegalArgumentException.class, () -> ok.evaluate(train, gaussian(rnd, 5, 3, 3)));
        float[] nan = test.data().clone();
        nan[7] = Float.NaN;
        assertThrows(
                IllegalArgumentException.class, () -> ok.evaluate(train, new FeatureSet(nan, 5, 4, test.labels())));
        assertThrows(IllegalArgumentException.class, () -> new FeatureSet(new float[7], 2, 4, new int[2]));
        assertThrows(
                IllegalArgumentException.class, () -> KnnEvaluator.builder().optKs(0, 5));
        assertThrows(
                IllegalArgumentException.class, () -> KnnEvaluator.builder().optTemperature(0));
    }

    // ------------------------------------------------------------------------------------------- data

    static FeatureSet gaussian(Random rnd, int n, int d, int classes) {
        float[] data = RandomArrays.gaussian(rnd, n * d);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % classes;
        }
        return new FeatureSet(data, n, d, labels);
    }

    /**
     * 12 × 12 grey images, flattened to 144 raw pixels: class c is a bright Gaussian blob (σ = 1.5 px) at its own
     * place on a ring of radius 4 px, jittered by up to half a pixel, with random contrast (0.5–2), a random
     * background level and pixel noise (σ = 0.15). Rows are grouped by class.
     */
    static FeatureSet blobImages(Random rnd, int classes, int perClass) {
        int side = 12;
        int n = classes * perClass;
        float[] data = new float[n * side * side];
        int[] labels = new int[n];
        for (int c = 0; c < classes; c++) {
            double cx = 5.5 + 4 * Math.cos(2 * Math.PI * c / classes);
            double cy = 5.5 + 4 * Math.sin(2 * Math.PI * c / classes);
            for (int s = 0; s < perClass; s++) {
                int i = c * perClass + s;
                labels[i] = c;
                double x0 = cx + rnd.nextDouble() - 0.5;
                double y0 = cy + rnd.nextDouble() - 0.5;
                double contrast = 0.5 + 1.5 * rnd.nextDouble();
                double background = 0.2 * rnd.nextDouble();
                for (int y = 0; y < side; y++) {
                    for (int x = 0; x < side; x++) {
                        double r2 = (x - x0) * (x - x0) + (y - y0) * (y - y0);
                        double v = background + contrast * Math.exp(-r2 / (2 * 1.5 * 1.5)) + 0.15 * rnd.nextGaussian();
                        data[i * side * side + y * side + x] = (float) v;
                    }
                }
            }
        }
        return new FeatureSet(data, n, side * side, labels);
    }
}
