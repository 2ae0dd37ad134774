package dev.dinoj.evaluation.logreg;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.evaluation.metrics.Accuracy;
import dev.dinoj.evaluation.metrics.Json;
import java.util.List;
import java.util.Locale;

/**
 * The outcome of a C sweep.
 *
 * @param classes the number of classes
 * @param nSweep samples each grid fit used
 * @param nHeldOut held-out samples C was chosen on
 * @param nFinal samples of the final refit (all of train)
 * @param nTest test samples
 * @param sweep every C's held-out top-1
 * @param bestC the chosen C
 * @param bestHeldOutTop1 its held-out top-1, %
 * @param model the final model
 * @param test its test metrics
 */
public record LogRegResult(
        int classes,
        int nSweep,
        int nHeldOut,
        int nFinal,
        int nTest,
        List<CScore> sweep,
        double bestC,
        double bestHeldOutTop1,
        LogisticRegression.Model model,
        Accuracy test) {

    /**
     * One grid point.
     *
     * @param c the C
     * @param heldOutTop1 held-out top-1, %
     * @param iterations L-BFGS iterations
     * @param converged whether a tolerance was met before the iteration limit
     */
    public record CScore(double c, double heldOutTop1, int iterations, boolean converged) {}

    /**
     * Copies the sweep.
     *
     * @param classes classes
     * @param nSweep sweep samples
     * @param nHeldOut held-out samples
     * @param nFinal final samples
     * @param nTest test samples
     * @param sweep grid scores
     * @param bestC chosen C
     * @param bestHeldOutTop1 its held-out top-1
     * @param model final model
     * @param test test metrics
     */
    public LogRegResult {
        sweep = List.copyOf(sweep);
    }

    /**
     * One line of JSON.
     *
     * @param features the feature kind's label
     * @return the JSON object, no line break
     */
    public String toJson(String features) {
        ObjectNode o = Json.object();
        o.put("eval", "logreg");
        o.put("features", features);
        o.put("num_classes", classes);
        o.put("n_sweep", nSweep);
        o.put("n_held_out", nHeldOut);
        o.put("n_final", nFinal);
        o.put("n_test", nTest);
        o.put("best_C", Json.sci(bestC));
        o.put("held_out_top1", Json.num(bestHeldOutTop1));
        o.put("final_iterations", model.fit().iterations());
        o.set("test", test.toJson());
        ArrayNode grid = o.putArray("sweep");
        for (CScore s : sweep) {
            ObjectNode c = grid.addObject();
            c.put("C", Json.sci(s.c()));
            c.put("top1", Json.num(s.heldOutTop1()));
            c.put("iters", s.iterations());
        }
        return Json.line(o);
    }

    /** @return a text table of the sweep and the result */
    public String toTable() {
        StringBuilder sb = new StringBuilder(512);
        sb.append(String.format(
                Locale.ROOT,
                "logistic regression  classes=%d  sweep on %d, C chosen on %d held out, "
                        + "final fit on %d, test %d%n",
                classes,
                nSweep,
                nHeldOut,
                nFinal,
                nTest));
        sb.append(String.format(Locale.ROOT, "%12s %14s %7s%n", "C", "held-out top-1", "iters"));
        for (CScore s : sweep) {
            sb.append(String.format(
                    Locale.ROOT,
                    "%12.4g %14.2f %7d%s%n",
                    s.c(),
                    s.heldOutTop1(),
                    s.iterations(),
                    s.c() == bestC ? "  <- best" : ""));
        }
        sb.append(String.format(Locale.ROOT, "best C %.4g: test top-1 %.2f %%", bestC, test.top1()));
        if (test.hasTop5()) {
            sb.append(String.format(Locale.ROOT, ", top-5 %.2f %%", test.top5()));
        }
        sb.append(String.format(Locale.ROOT, ", mean per class %.2f %%%n", test.meanPerClass()));
        return sb.toString().replace(System.lineSeparator(), "\n");
    }
}
