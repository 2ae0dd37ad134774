package dev.dinoj.evaluation.logreg;

/**
 * Limited-memory BFGS (Nocedal &amp; Wright, Algorithm 7.4/7.5) with a line search satisfying the strong Wolfe
 * conditions (Algorithms 3.5/3.6, cubic interpolation with bisection as the safeguard), for smooth objectives on
 * {@code double[]}. Stops when {@code max|g_i| <= gtol}, when the relative decrease of the objective falls below
 * {@code ftol} (scipy's {@code factr} criterion), or after {@code maxIter} iterations.
 */
public final class Lbfgs {

    /** A smooth objective. */
    @FunctionalInterface
    public interface Function {
        /**
         * @param x the point (do not modify)
         * @param grad receives the gradient at {@code x}
         * @return the value at {@code x}
         */
        double valueAndGradient(double[] x, double[] grad);
    }

    /**
     * The outcome.
     *
     * @param x the last accepted point
     * @param value the objective there
     * @param gradInfNorm {@code max|g_i|} there
     * @param iterations accepted steps
     * @param evaluations objective evaluations
     * @param converged whether a tolerance was met (else the iteration limit or a failed line search)
     * @param reason why it stopped
     */
    public record Result(
            double[] x,
            double value,
            double gradInfNorm,
            int iterations,
            int evaluations,
            boolean converged,
            String reason) {}

    private static final double C1 = 1e-4;
    private static final double C2 = 0.9;
    private static final int MAX_LINE_SEARCH = 25;

    private final int memory;
    private final int maxIter;
    private final double gtol;
    private final double ftol;

    /**
     * @param memory correction pairs kept (10 is the usual choice)
     * @param maxIter iteration limit
     * @param gtol stop when {@code max|g_i| <= gtol}
     * @param ftol stop when {@code (f_k − f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) <= ftol}
     */
    public Lbfgs(int memory, int maxIter, double gtol, double ftol) {
        if (memory < 1 || maxIter < 0) {
            throw new IllegalArgumentException("memory must be >= 1 and maxIter >= 0");
        }
        this.memory = memory;
        this.maxIter = maxIter;
        this.gtol = gtol;
        this.ftol = ftol;
    }

    /**
     * Minimises {@code f} from {@code x0}.
     *
     * @param f the objective
     * @param x0 the start (not modified)
     * @return the result
     */
    public Result minimize(Function f, double[] x0) {
        int n = x0.length;
        double[] x = x0.clone();
        double[] g = new double[n];
        int[] evals = {0};
        double fx = eval(f, x, g, evals);
        if (!Double.isFinite(fx)) {
            throw new IllegalArgumentException("objective is not finite at the start: " + fx);
        }
        double[][] s = new double[memory][];
        double[][] y = new double[memory][];
        double[] rho = new double[memory];
        int stored = 0;
        int head = 0; // index of the oldest pair
        double[] alpha = new double[memory];
        double[] d = new double[n];
        if (infNorm(g) <= gtol) {
            return new Result(x, fx, infNorm(g), 0, evals[0], true, "gradient below gtol");
        }
        for (int k = 0; k < maxIter; k++) {
            // ---- d = −H·g by the two-loop recursion
            System.arraycopy(g, 0, d, 0, n);
            for (int j = stored - 1; j >= 0; j--) {
                int i = (head + j) % memory;
                alpha[i] = rho[i] * dot(s[i], d);
                axpy(-alpha[i], y[i], d);
            }
            double gamma = 1.0;
            if (stored > 0) {
                int last = (head + stored - 1) % memory;
                gamma = dot(s[last], y[last]) / dot(y[last], y[last]);
            }
            scale(d, gamma);
            for (int j = 0; j < stored; j++) {
                int i = (head + j) % memory;
                double beta = rho[i] * dot(y[i], d);
                axpy(alpha[i] - beta, s[i], d);
            }
            scale(d, -1);
            double gd = dot(g, d);
            if (!(gd < 0)) { // not a descent direction: restart from −g
                stored = 0;
                System.arraycopy(g, 0, d, 0, n);
                scale(d, -1);
                gd = dot(g, d);
            }
            double step0 = stored == 0 ? Math.min(1.0, 1.0 / Math.sqrt(dot(g, g))) : 1.0;
            LineSearch ls = lineSearch(f, x, fx, g, d, gd, step0, evals);
            if (ls == null) {
                if (stored > 0) { // retry once along −g with a fresh memory
                    stored = 0;
                    k--;
                    continue;
                }
                return new Result(x, fx, infNorm(g), k, evals[0], false, "line search failed");
            }
            double[] sNew = new double[n];
            double[] yNew = new double[n];
            for (int i = 0; i < n; i++) {
                sNew[i] = ls.x[i] - x[i];
                yNew[i] = ls.g[i] - g[i];
            }
            double sy = dot(sNew, yNew);
            if (sy > 1e-12 * dot(yNew, yNew)) {
                int slot = stored < memory ? (head + stored) % memory : head;
                if (stored < memory) {
                    stored++;
                } else {
                    head = (head + 1) % memory;
                }
                s[slot] = sNew;
                y[slot] = yNew;
                rho[slot] = 1.0 / sy;
            }
            double fPrev = fx;
            x = ls.x;
            g = ls.g;
            fx = ls.f;
            double gi = infNorm(g);
            if (gi <= gtol) {
                return new Result(x, fx, gi, k + 1, evals[0], true, "gradient below gtol");
            }
            if ((fPrev - fx) <= ftol * Math.max(Math.max(Math.abs(fPrev), Math.abs(fx)), 1.0)) {
                return new Result(x, fx, gi, k + 1, evals[0], true, "relative decrease below ftol");
            }
        }
        return new Result(x, fx, infNorm(g), maxIter, evals[0], false, "iteration limit");
    }

    private record LineSearch(double step, double[] x, double[] g, double f, double dg) {}

    /** Strong-Wolfe line search (N&amp;W Algorithm 3.5); null when no acceptable step was found. */
    private static LineSearch lineSearch(
            Function f, double[] x, double f0, double[] g0, double[] d, double gd0, double step0, int[] evals) {
        LineSearch prev = new LineSearch(0, x, g0, f0, gd0);
        double a = step0;
        for (int i = 0; i < MAX_LINE_SEARCH; i++) {
            LineSearch cur = at(f, x, d, a, evals);
            if (!Double.isFinite(cur.f) || cur.f > f0 + C1 * a * gd0 || (i > 0 && cur.f >= prev.f)) {
                return zoom(f, x, f0, gd0, d, prev, cur, evals);
            }
            if (Math.abs(cur.dg) <= -C2 * gd0) {
                return cur;
            }
            if (cur.dg >= 0) {
                return zoom(f, x, f0, gd0, d, cur, prev, evals);
            }
            prev = cur;
            a *= 2;
        }
        return null;
    }

    /** N&amp;W Algorithm 3.6 between {@code lo} (lower value, satisfies sufficient decrease) and {@code hi}. */
    private static LineSearch zoom(
            Function f, double[] x, double f0, double gd0, double[] d, LineSearch lo, LineSearch hi, int[] evals) {
        for (int j = 0; j < MAX_LINE_SEARCH; j++) {
            double a = interpolate(lo, hi);
            LineSearch cur = at(f, x, d, a, evals);
            if (!Double.isFinite(cur.f) || cur.f > f0 + C1 * a * gd0 || cur.f >= lo.f) {
                hi = cur;
            } else {
                if (Math.abs(cur.dg) <= -C2 * gd0) {
                    return cur;
                }
                if (cur.dg * (hi.step - lo.step) >= 0) {
                    hi = lo;
                }
                lo = cur;
            }
            if (Math.abs(hi.step - lo.step) < 1e-16 * Math.max(1, Math.abs(lo.step))) {
                break;
            }
        }
        return lo.step > 0 && lo.f < f0 ? lo : null;
    }

    /** Minimiser of the cubic through both ends, kept inside the middle 80 % of the bracket; else bisection. */
    private static double interpolate(LineSearch p, LineSearch q) {
        double lo = Math.min(p.step, q.step);
        double hi = Math.max(p.step, q.step);
        double a;
        if (Double.isFinite(p.f) && Double.isFinite(q.f)) {
            double d1 = p.dg + q.dg - 3 * (p.f - q.f) / (p.step - q.step);
            double rad = d1 * d1 - p.dg * q.dg;
            if (rad >= 0) {
                double d2 = Math.signum(q.step - p.step) * Math.sqrt(rad);
                a = q.step - (q.step - p.step) * (q.dg + d2 - d1) / (q.dg - p.dg + 2 * d2);
            } else {
                a = Double.NaN;
            }
        } else {
            a = Double.NaN;
        }
        double margin = 0.1 * (hi - lo);
        if (!Double.isFinite(a) || a < lo + margin || a > hi - margin) {
            a = 0.5 * (lo + hi);
        }
        return a;
    }

    private static LineSearch at(Function f, double[] x, double[] d, double a, int[] evals) {
        double[] xa = x.clone();
        axpy(a, d, xa);
        double[] ga = new double[x.length];
        double fa = eval(f, xa, ga, evals);
        return new LineSearch(a, xa, ga, fa, dot(ga, d));
    }

    private static double eval(Function f, double[] x, double[] g, int[] evals) {
        evals[0]++;
        return f.valueAndGradient(x, g);
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static void axpy(double a, double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            y[i] += a * x[i];
        }
    }

    private static void scale(double[] x, double a) {
        for (int i = 0; i < x.length; i++) {
            x[i] *= a;
        }
    }

    private static double infNorm(double[] g) {
        double m = 0;
        for (double v : g) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
