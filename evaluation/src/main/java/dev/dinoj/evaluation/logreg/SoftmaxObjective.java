package dev.dinoj.evaluation.logreg;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import dev.dinoj.evaluation.knn.FeatureSet;

/**
 * The L2-regularised multinomial logistic-regression objective in float64, with the data held as native arrays so
 * each evaluation is two GEMMs:
 * <pre>
 *   f(W, b) = (1/n) Σ_i [logsumexp(x_i W + b) − (x_i W + b)_{y_i}] + (λ/2)‖W‖²,   λ = 1 / (C·n)
 *   ∂f/∂W = Xᵀ(P − Y)/n + λW,   ∂f/∂b = Σ_i (P − Y)_i / n
 * </pre>
 * which has the minimiser of scikit-learn's and cuML's {@code LogisticRegression(penalty="l2", C)} (cuML's L2
 * strength is {@code 1/C}, normalised by the sample count; scikit-learn minimises {@code C·Σ CE + ½‖W‖²}); the
 * intercept is not penalised. The parameter vector is {@code W} ({@code d × K}, row-major) followed by {@code b}.
 */
final class SoftmaxObjective implements Lbfgs.Function, AutoCloseable {

    // Everything is held class-major (K × n): PyTorch's CPU matmul of a tall (n × d) matrix by a skinny (d × K)
    // one runs at a fraction of the speed of the same product written as (K × d)·(d × n) (measured 20× here).
    private final NDManager manager;
    private final NDArray x; // (n, d) float64
    private final NDArray xt; // (d, n) float64, contiguous
    private final NDArray yt; // (K, n) float64 one-hot
    private final int n;
    private final int d;
    private final int k;
    private double lambda;

    SoftmaxObjective(FeatureSet fs, int classes, double c) {
        this.n = fs.n();
        this.d = fs.dim();
        this.k = classes;
        setC(c);
        this.manager = NDManager.newBaseManager();
        double[] xd = new double[fs.data().length];
        double[] xtd = new double[fs.data().length];
        float[] src = fs.data();
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < d; j++) {
                xd[i * d + j] = src[i * d + j];
                xtd[j * n + i] = src[i * d + j];
            }
        }
        this.x = manager.create(xd, new Shape(n, d));
        this.xt = manager.create(xtd, new Shape(d, n));
        double[] oh = new double[k * n];
        for (int i = 0; i < n; i++) {
            oh[fs.labels()[i] * n + i] = 1;
        }
        this.yt = manager.create(oh, new Shape(k, n));
    }

    /** Sets the inverse regularisation strength C (λ = 1 / (C·n)). */
    void setC(double c) {
        if (!(c > 0) || Double.isInfinite(c)) {
            throw new IllegalArgumentException("C must be finite and > 0: " + c);
        }
        this.lambda = 1.0 / (c * n);
    }

    /** @return the number of parameters {@code d·K + K} */
    int size() {
        return d * k + k;
    }

    @Override
    public double valueAndGradient(double[] theta, double[] grad) {
        double[] wt = new double[k * d]; // Wᵀ, (K, d)
        double reg = 0;
        for (int j = 0; j < d; j++) {
            for (int c = 0; c < k; c++) {
                double v = theta[j * k + c];
                wt[c * d + j] = v;
                reg += v * v;
            }
        }
        double[] bd = new double[k];
        System.arraycopy(theta, d * k, bd, 0, k);
        double ce;
        double[] gwt;
        double[] gb;
        try (NDScope scope = new NDScope()) {
            NDArray w = manager.create(wt, new Shape(k, d)); // (K, d)
            NDArray b = manager.create(bd, new Shape(k, 1)); // (K, 1)
            NDArray z = w.matMul(xt).add(b); // (K, n) logits, class-major
            NDArray zmax = z.max(new int[] {0}, true); // (1, n)
            NDArray lse = z.sub(zmax).exp().sum(new int[] {0}, true).log().add(zmax); // (1, n)
            ce = lse.sum().getDouble() - z.mul(yt).sum().getDouble();
            NDArray r = z.sub(lse).exp().sub(yt).div(n); // (K, n) = (P − Y)ᵀ / n
            gwt = r.matMul(x).toDoubleArray(); // (K, d) data part of ∂f/∂Wᵀ
            gb = r.sum(new int[] {1}).toDoubleArray(); // (K)
            scope.suppressNotUsedWarning();
        }
        for (int j = 0; j < d; j++) {
            for (int c = 0; c < k; c++) {
                grad[j * k + c] = gwt[c * d + j] + lambda * theta[j * k + c];
            }
        }
        System.arraycopy(gb, 0, grad, d * k, k);
        return ce / n + 0.5 * lambda * reg;
    }

    @Override
    public void close() {
        manager.close();
    }
}
