package dev.dinoj.evaluation.logreg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.evaluation.EvalTestData;
import dev.dinoj.evaluation.features.EvalFeatures;
import dev.dinoj.evaluation.features.FeatureCache;
import dev.dinoj.evaluation.features.FeatureKind;
import dev.dinoj.evaluation.features.ModelSource;
import dev.dinoj.evaluation.knn.FeatureSet;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class LogisticRegressionTest {

    @Test
    void lbfgsShouldMinimiseRosenbrock() {
        Lbfgs.Result r = new Lbfgs(10, 500, 1e-8, 0)
                .minimize(
                        (x, g) -> {
                            double a = 1 - x[0];
                            double b = x[1] - x[0] * x[0];
                            g[0] = -2 * a - 400 * x[0] * b;
                            g[1] = 200 * b;
                            return a * a + 100 * b * b;
                        },
                        new double[] {-1.2, 1});
        assertTrue(r.converged(), r.reason());
        assertEquals(1, r.x()[0], 1e-5);
        assertEquals(1, r.x()[1], 1e-5);
    }

    @Test
    void objectiveGradientShouldMatchFiniteDifferences() {
        SplittableRandom rng = new SplittableRandom(1);
        float[][] rows = new float[20][4];
        int[] labels = new int[20];
        for (int i = 0; i < rows.length; i++) {
            labels[i] = i % 3;
            for (int j = 0; j < 4; j++) {
                rows[i][j] = (float) rng.nextGaussian();
            }
        }
        try (SoftmaxObjective f = new SoftmaxObjective(FeatureSet.of(rows, labels), 3, 0.7)) {
            double[] theta = new double[f.size()];
            for (int i = 0; i < theta.length; i++) {
                theta[i] = rng.nextGaussian() * 0.3;
            }
            double[] g = new double[theta.length];
            f.valueAndGradient(theta, g);
            double h = 1e-6;
            for (int i = 0; i < theta.length; i++) {
                double[] p = theta.clone();
                double[] m = theta.clone();
                p[i] += h;
                m[i] -= h;
                double fd = (f.valueAndGradient(p, new double[theta.length])
                                - f.valueAndGradient(m, new double[theta.length]))
                        / (2 * h);
                assertEquals(fd, g[i], 1e-7, "d f / d theta[" + i + "]");
            }
        }
    }

    /**
     * Known answer: two points x = ±1 of classes 1 and 0. By symmetry the optimum is W = [−a, a], b0 = b1, with
     * f(a) = log(1 + e^{−2a}) + λa² (λ = 1/(C·n) = 1/(2C)), whose stationarity λa = 1/(1 + e^{2a}) is solved by
     * bisection here.
     */
    @Test
    void shouldFindTheClosedFormOptimumOfASymmetricProblem() {
        FeatureSet fs = FeatureSet.of(new float[][] {{1f}, {-1f}}, new int[] {1, 0});
        for (double c : new double[] {0.1, 1, 10}) {
            double lambda = 1 / (2 * c);
            double lo = 0;
            double hi = 50;
            for (int it = 0; it < 200; it++) {
                double a = 0.5 * (lo + hi);
                if (lambda * a - 1 / (1 + Math.exp(2 * a)) > 0) {
                    hi = a;
                } else {
                    lo = a;
                }
            }
            double a = 0.5 * (lo + hi);
            LogisticRegression.Model m = new LogisticRegression(1000, 1e-10, 0).fit(fs, 2, c, null);
            float[] w = m.head().weight(); // (1, 2)
            assertEquals(-a, w[0], 1e-5, "w0 at C=" + c);
            assertEquals(a, w[1], 1e-5, "w1 at C=" + c);
            assertEquals(0, m.head().bias()[1] - m.head().bias()[0], 1e-6, "b1 - b0 at C=" + c);
        }
    }

    /** Known answer from scipy's L-BFGS-B on the same objective (see resources/logreg/make_fixture.py). */
    @Test
    void shouldMatchScipyOnTheSameObjective() throws Exception {
        JsonNode fx;
        try (var in = getClass().getResourceAsStream("/logreg/fixture.json")) {
            fx = new ObjectMapper().readTree(in);
        }
        int n = fx.get("X").size();
        float[][] rows = new float[n][];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            JsonNode r = fx.get("X").get(i);
            rows[i] = new float[r.size()];
            for (int j = 0; j < r.size(); j++) {
                rows[i][j] = (float) r.get(j).asDouble();
            }
            labels[i] = fx.get("y").get(i).asInt();
        }
        FeatureSet fs = FeatureSet.of(rows, labels);
        int k = fx.get("classes").asInt();
        for (JsonNode c : fx.get("cases")) {
            LogisticRegression.Model m =
                    new LogisticRegression(5000, 1e-10, 0).fit(fs, k, c.get("C").asDouble(), null);
            assertEquals(c.get("objective").asDouble(), m.fit().value(), 1e-9, "objective at C=" + c.get("C"));
            for (int i = 0; i < c.get("W").size(); i++) {
                assertEquals(c.get("W").get(i).asDouble(), m.theta()[i], 1e-4, "W[" + i + "] at C=" + c.get("C"));
            }
            double mean = 0;
            for (int j = 0; j < k; j++) {
                mean += m.theta()[rows[0].length * k + j] / k;
            }
            for (int j = 0; j < k; j++) {
                assertEquals(
                        c.get("b_centered").get(j).asDouble(),
                        m.theta()[rows[0].length * k + j] - mean,
                        1e-4,
                        "b[" + j + "] at C=" + c.get("C"));
            }
        }
    }

    @Test
    void gridShouldBeTheOfficialPowers() {
        double[] g = LogRegSweep.grid(-6, 5, 45);
        assertEquals(45, g.length);
        assertEquals(1e-6, g[0], 1e-12);
        assertEquals(1e5, g[44], 1e-1);
        assertEquals(Math.pow(10, -6 + 11.0 / 44 * 22), g[22], g[22] * 1e-6);
    }

    @Test
    void sweepOnFashionMnistPixelsShouldChooseACAndGeneralise() throws Exception {
        FeatureSet train;
        FeatureSet test;
        try (EvalFeatures fx = new EvalFeatures(ModelSource.pixels(), FeatureCache.none(), 256, null)) {
            // pixels at 8 px (192 values, the width of a tiny ViT's CLS): a twelfth of the cost of 28 px
            train = fx.get(EvalTestData.train(), 1000, FeatureKind.PIXELS, 8);
            test = fx.get(EvalTestData.test(), 300, FeatureKind.PIXELS, 8);
        }
        LogRegSweep.Settings s = new LogRegSweep.Settings(LogRegSweep.grid(-4, 0, 5), 0.1, 0, 0);
        LogRegResult r = new LogRegSweep(s, new LogisticRegression(60, 1e-4, 1e-9), null).run(train, test);
        System.out.print(r.toTable());
        assertEquals(900, r.nSweep());
        assertEquals(100, r.nHeldOut());
        assertEquals(1000, r.nFinal());
        assertEquals(5, r.sweep().size());
        assertTrue(
                r.test().top1() > 65,
                "8-px raw-pixel logistic regression on 1000 images: " + r.test().top1());
        // the chosen C is the first best on the held-out part
        double best = r.sweep().stream()
                .mapToDouble(LogRegResult.CScore::heldOutTop1)
                .max()
                .orElseThrow();
        assertEquals(best, r.bestHeldOutTop1(), 1e-9);
        JsonNode j = new ObjectMapper().readTree(r.toJson("pixels"));
        assertEquals("logreg", j.get("eval").asText());
        assertEquals(5, j.get("sweep").size());
    }
}
