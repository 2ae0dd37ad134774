package dev.dinoj.evaluation.robustness;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.evaluation.metrics.Json;
import java.util.List;
import java.util.Locale;

/**
 * Accuracy on clean and corrupted test sets.
 *
 * @param settings the settings
 * @param nTrain training images
 * @param nTest test images per set
 * @param linearHead the linear head used (chosen on clean held-out features)
 * @param cleanKnn clean k-NN top-1, %
 * @param cleanLinear clean linear top-1, %
 * @param rows one per (corruption, severity)
 */
public record RobustnessResult(
        RobustnessEval.Settings settings,
        int nTrain,
        int nTest,
        String linearHead,
        double cleanKnn,
        double cleanLinear,
        List<Row> rows) {

    /**
     * One corrupted test set.
     *
     * @param corruption the corruption
     * @param severity 1..5
     * @param knnTop1 k-NN top-1, %
     * @param linearTop1 linear top-1, %
     */
    public record Row(Corruption corruption, int severity, double knnTop1, double linearTop1) {}

    /**
     * Copies the rows.
     *
     * @param settings settings
     * @param nTrain train images
     * @param nTest test images
     * @param linearHead head name
     * @param cleanKnn clean k-NN
     * @param cleanLinear clean linear
     * @param rows rows
     */
    public RobustnessResult {
        rows = List.copyOf(rows);
    }

    /** @return mean k-NN top-1 over all corrupted sets (mCA), % */
    public double meanKnn() {
        return rows.stream().mapToDouble(Row::knnTop1).average().orElse(Double.NaN);
    }

    /** @return mean linear top-1 over all corrupted sets, % */
    public double meanLinear() {
        return rows.stream().mapToDouble(Row::linearTop1).average().orElse(Double.NaN);
    }

    /**
     * One line of JSON.
     *
     * @param features the feature kind's label
     * @return the JSON object, no line break
     */
    public String toJson(String features) {
        ObjectNode o = Json.object();
        o.put("eval", "robustness");
        o.put("features", features);
        o.put("n_train", nTrain);
        o.put("n_test", nTest);
        o.put("k", settings.k());
        ObjectNode clean = o.putObject("clean");
        clean.put("knn_top1", Json.num(cleanKnn));
        clean.put("linear_top1", Json.num(cleanLinear));
        ObjectNode mean = o.putObject("mean_corrupted");
        mean.put("knn_top1", Json.num(meanKnn()));
        mean.put("linear_top1", Json.num(meanLinear()));
        ArrayNode sets = o.putArray("sets");
        for (Row r : rows) {
            ObjectNode s = sets.addObject();
            s.put("corruption", r.corruption().label());
            s.put("severity", r.severity());
            s.put("knn_top1", Json.num(r.knnTop1()));
            s.put("linear_top1", Json.num(r.linearTop1()));
        }
        return Json.line(o);
    }

    /** @return a text table: one row per corrupted set, then the means */
    public String toTable() {
        StringBuilder sb = new StringBuilder(1024);
        sb.append(String.format(
                Locale.ROOT,
                "robustness  train=%d  test=%d per set  k-NN k=%d  linear head %s%n",
                nTrain,
                nTest,
                settings.k(),
                linearHead));
        sb.append(String.format(Locale.ROOT, "%-18s %8s %10s %12s%n", "test set", "severity", "k-NN %", "linear %"));
        sb.append(String.format(Locale.ROOT, "%-18s %8s %10.2f %12.2f%n", "clean", "-", cleanKnn, cleanLinear));
        for (Row r : rows) {
            sb.append(String.format(
                    Locale.ROOT,
                    "%-18s %8d %10.2f %12.2f%n",
                    r.corruption().label(),
                    r.severity(),
                    r.knnTop1(),
                    r.linearTop1()));
        }
        sb.append(
                String.format(Locale.ROOT, "%-18s %8s %10.2f %12.2f%n", "mean corrupted", "", meanKnn(), meanLinear()));
        return sb.toString().replace(System.lineSeparator(), "\n");
    }
}
