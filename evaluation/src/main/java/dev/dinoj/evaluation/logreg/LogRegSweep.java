package dev.dinoj.evaluation.logreg;

import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.evaluation.metrics.Accuracy;
import dev.dinoj.evaluation.metrics.HoldOut;
import java.util.ArrayList;
import java.util.List;

/**
 * dinov2's logistic-regression evaluation ({@code eval_log_regression} without a fine-tune set): hold out 10 % of
 * train, fit one model per C of the grid {@code 10^linspace(−6, 5, 45)} on the other 90 %, choose the C of best
 * held-out top-1 (the first on ties), refit on all of train with that C, report on test.
 *
 * <p>Fits run over the grid in ascending C, each starting from the previous solution: the problems are strictly
 * convex, so the warm start changes the cost, not the answer.
 */
public final class LogRegSweep {

    /** Official {@code C_POWER_RANGE = linspace(−6, 5, 45)}. */
    public static final int OFFICIAL_C_STEPS = 45;

    /**
     * Sweep settings.
     *
     * @param cs the C grid (ascending)
     * @param heldOutFraction the share of train held out to choose C (official 0.1)
     * @param seed the split seed
     * @param numClasses classes, or 0 for {@code max(train label) + 1}
     */
    public record Settings(double[] cs, double heldOutFraction, long seed, int numClasses) {

        /**
         * Validates and copies the grid.
         *
         * @param cs the grid
         * @param heldOutFraction held-out share
         * @param seed seed
         * @param numClasses classes or 0
         */
        public Settings {
            if (cs == null || cs.length == 0) {
                throw new IllegalArgumentException("need at least one C");
            }
            cs = cs.clone();
            for (int i = 0; i < cs.length; i++) {
                if (!(cs[i] > 0) || Double.isInfinite(cs[i]) || (i > 0 && cs[i] <= cs[i - 1])) {
                    throw new IllegalArgumentException("the C grid must be finite, > 0 and ascending");
                }
            }
        }

        @Override
        public double[] cs() {
            return cs.clone();
        }

        /** @return the official grid, 10 % held out, seed 0 */
        public static Settings defaults() {
            return new Settings(grid(-6, 5, OFFICIAL_C_STEPS), 0.1, 0, 0);
        }
    }

    /**
     * {@code 10^linspace(lo, hi, steps)}.
     *
     * @param lo lowest power
     * @param hi highest power
     * @param steps grid points ({@code >= 1}; 1 gives {@code 10^lo})
     * @return the grid, ascending
     */
    public static double[] grid(double lo, double hi, int steps) {
        double[] out = new double[steps];
        for (int i = 0; i < steps; i++) {
            double p = steps == 1 ? lo : lo + (hi - lo) * i / (steps - 1);
            out[i] = (float) Math.pow(10, (float) p); // torch.linspace and the power are float32
        }
        return out;
    }

    /** Told after each fit. */
    @FunctionalInterface
    public interface Listener {
        /**
         * @param done fits done (the grid, then the final refit)
         * @param total fits to do
         * @param c the C just fitted
         * @param heldOutTop1 its held-out top-1 (NaN for the final refit)
         */
        void fitted(int done, int total, double c, double heldOutTop1);
    }

    private final Settings settings;
    private final LogisticRegression estimator;
    private final Listener listener;

    /**
     * @param settings the grid and split
     * @param estimator the per-C fit
     * @param listener progress (may be null)
     */
    public LogRegSweep(Settings settings, LogisticRegression estimator, Listener listener) {
        this.settings = settings;
        this.estimator = estimator;
        this.listener = listener;
    }

    /**
     * Runs the sweep.
     *
     * @param train labelled training features
     * @param test labelled test features
     * @return the result
     */
    public LogRegResult run(FeatureSet train, FeatureSet test) {
        if (train.dim() != test.dim()) {
            throw new IllegalArgumentException("train dim " + train.dim() + " != test dim " + test.dim());
        }
        int classes = settings.numClasses() > 0 ? settings.numClasses() : train.labelCount();
        HoldOut split = HoldOut.of(train.n(), settings.heldOutFraction(), settings.seed());
        FeatureSet tr = train.subset(split.train());
        FeatureSet held = train.subset(split.heldOut());
        double[] cs = settings.cs();
        List<LogRegResult.CScore> scores = new ArrayList<>(cs.length);
        int best = -1;
        double bestTop1 = -1;
        try (SoftmaxObjective f = new SoftmaxObjective(tr, classes, cs[0])) {
            double[] warm = null;
            for (int i = 0; i < cs.length; i++) {
                LogisticRegression.Model m = estimator.fit(f, tr.dim(), classes, cs[i], warm);
                warm = m.theta();
                double top1 = Accuracy.of(m.head().scores(held), classes, held.labels())
                        .top1();
                scores.add(new LogRegResult.CScore(
                        cs[i], top1, m.fit().iterations(), m.fit().converged()));
                if (top1 > bestTop1) {
                    bestTop1 = top1;
                    best = i;
                }
                if (listener != null) {
                    listener.fitted(i + 1, cs.length + 1, cs[i], top1);
                }
            }
        }
        double bestC = cs[best];
        LogisticRegression.Model finalModel = estimator.fit(train, classes, bestC, null);
        if (listener != null) {
            listener.fitted(cs.length + 1, cs.length + 1, bestC, Double.NaN);
        }
        Accuracy testAcc = Accuracy.of(finalModel.head().scores(test), classes, test.labels());
        return new LogRegResult(
                classes, tr.n(), held.n(), train.n(), test.n(), scores, bestC, bestTop1, finalModel, testAcc);
    }
}
