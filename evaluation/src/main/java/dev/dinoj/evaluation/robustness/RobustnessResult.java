package dev.dinoj.evaluation.robustness;

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
public record RobustnessResult(RobustnessEval.Settings settings, int nTrain, int nTest, String linearHead,
                               double cleanKnn, double cleanLinear, List<Row> rows) {

    /**
     * One corrupted test set.
     *
     * @param corruption the corruption
     * @param severity 1..5
     * @param knnTop1 k-NN top-1, %
     * @param linearTop1 linear top-1, %
     */
    public record Row(Corruption corruption, int severity, double knnTop1, double linearTop1) {
    }

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
        StringBuilder sb = new StringBuilder(256 + 80 * rows.size());
        sb.append("{\"eval\":\"robustness\",\"features\":").append(Json.str(features))
                .append(",\"n_train\":").append(nTrain).append(",\"n_test\":").append(nTest)
                .append(",\"k\":").append(settings.k())
                .append(",\"clean\":{\"knn_top1\":").append(Json.num(cleanKnn))
                .append(",\"linear_top1\":").append(Json.num(cleanLinear)).append('}')
                .append(",\"mean_corrupted\":{\"knn_top1\":").append(Json.num(meanKnn()))
                .append(",\"linear_top1\":").append(Json.num(meanLinear())).append('}')
                .append(",\"sets\":[");
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            sb.append(i == 0 ? "" : ",").append("{\"corruption\":").append(Json.str(r.corruption().label()))
                    .append(",\"severity\":").append(r.severity())
                    .append(",\"knn_top1\":").append(Json.num(r.knnTop1()))
                    .append(",\"linear_top1\":").append(Json.num(r.linearTop1())).append('}');
        }
        return sb.append("]}").toString();
    }

    /** @return a text table: one row per corrupted set, then the means */
    public String toTable() {
        StringBuilder sb = new StringBuilder(1024);
        sb.append(String.format(Locale.ROOT, "robustness  train=%d  test=%d per set  k-NN k=%d  linear head %s%n",
                nTrain, nTest, settings.k(), linearHead));
        sb.append(String.format(Locale.ROOT, "%-18s %8s %10s %12s%n", "test set", "severity", "k-NN %", "linear %"));
        sb.append(String.format(Locale.ROOT, "%-18s %8s %10.2f %12.2f%n", "clean", "-", cleanKnn, cleanLinear));
        for (Row r : rows) {
            sb.append(String.format(Locale.ROOT, "%-18s %8d %10.2f %12.2f%n", r.corruption().label(), r.severity(),
                    r.knnTop1(), r.linearTop1()));
        }
        sb.append(String.format(Locale.ROOT, "%-18s %8s %10.2f %12.2f%n", "mean corrupted", "", meanKnn(),
                meanLinear()));
        return sb.toString().replace(System.lineSeparator(), "\n");
    }
}
