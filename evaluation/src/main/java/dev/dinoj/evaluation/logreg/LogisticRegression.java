package dev.dinoj.evaluation.logreg;

import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.evaluation.linear.HeadInput;
import dev.dinoj.evaluation.linear.LinearHead;
import java.util.Locale;

/**
 * Multinomial logistic regression with an L2 penalty fitted by L-BFGS: the estimator of dinov2's
 * {@code log_regression.py} (cuML {@code LogisticRegression(penalty="l2", C=C, max_iter=1000, tol=1e-12)} in
 * float64), see {@link SoftmaxObjective} for the objective.
 */
public final class LogisticRegression {

    /** dinov2's {@code DEFAULT_MAX_ITER}. */
    public static final int DEFAULT_MAX_ITER = 1000;

    /**
     * A fitted model.
     *
     * @param c the C it was fitted with
     * @param head the classifier (weights {@code d × K}, bias {@code K})
     * @param theta the raw parameter vector (warm start for the next C)
     * @param fit what the optimiser reported
     */
    public record Model(double c, LinearHead head, double[] theta, Lbfgs.Result fit) {}

    private final int maxIter;
    private final double gtol;
    private final double ftol;

    /**
     * @param maxIter L-BFGS iteration limit
     * @param gtol stop when the largest gradient component is below this
     * @param ftol stop when the relative decrease of the objective is below this
     */
    public LogisticRegression(int maxIter, double gtol, double ftol) {
        this.maxIter = maxIter;
        this.gtol = gtol;
        this.ftol = ftol;
    }

    /** @return 1000 iterations, gtol 1e-6, ftol 1e-12 */
    public static LogisticRegression defaults() {
        return new LogisticRegression(DEFAULT_MAX_ITER, 1e-6, 1e-12);
    }

    /**
     * Fits one C.
     *
     * @param train labelled features
     * @param classes the number of classes
     * @param c the inverse regularisation strength
     * @param warmStart a parameter vector to start from (e.g. the previous C's), or null for zeros
     * @return the model
     */
    public Model fit(FeatureSet train, int classes, double c, double[] warmStart) {
        try (SoftmaxObjective f = new SoftmaxObjective(train, classes, c)) {
            return fit(f, train.dim(), classes, c, warmStart);
        }
    }

    Model fit(SoftmaxObjective f, int dim, int classes, double c, double[] warmStart) {
        f.setC(c);
        double[] x0 = warmStart != null ? warmStart.clone() : new double[f.size()];
        if (x0.length != f.size()) {
            throw new IllegalArgumentException("warm start has " + x0.length + " values, need " + f.size());
        }
        Lbfgs.Result r = new Lbfgs(10, maxIter, gtol, ftol).minimize(f, x0);
        float[] w = new float[dim * classes];
        float[] b = new float[classes];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) r.x()[i];
        }
        for (int i = 0; i < classes; i++) {
            b[i] = (float) r.x()[dim * classes + i];
        }
        LinearHead head =
                new LinearHead(String.format(Locale.ROOT, "logreg_C_%.6g", c), HeadInput.whole(dim), 0, w, b, classes);
        return new Model(c, head, r.x(), r);
    }
}
