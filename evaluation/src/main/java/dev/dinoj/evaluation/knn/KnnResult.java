package dev.dinoj.evaluation.knn;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.evaluation.metrics.Json;
import java.util.List;
import java.util.Locale;

/**
 * The outcome of one k-NN evaluation: the metrics of each k and what they were measured on.
 *
 * @param temperature the voting temperature T
 * @param numClasses the number of classes C
 * @param nTrain train samples used (with few-shot: the size of one draw)
 * @param nTest test samples (queries)
 * @param nPerClass few-shot samples per class, or 0 for the full train set
 * @param tries few-shot draws averaged (1 for the full train set)
 * @param accuracies the metrics of each k, ascending k
 */
public record KnnResult(
        double temperature,
        int numClasses,
        int nTrain,
        int nTest,
        int nPerClass,
        int tries,
        List<KnnAccuracy> accuracies) {

    /**
     * Copies the metrics into an unmodifiable list.
     *
     * @param temperature the voting temperature
     * @param numClasses the number of classes
     * @param nTrain train samples used
     * @param nTest test samples
     * @param nPerClass few-shot samples per class, or 0
     * @param tries few-shot draws averaged
     * @param accuracies the metrics of each k
     */
    public KnnResult {
        accuracies = List.copyOf(accuracies);
    }

    /**
     * The metrics of one k.
     *
     * @param k an evaluated k
     * @return its metrics
     */
    public KnnAccuracy forK(int k) {
        for (KnnAccuracy a : accuracies) {
            if (a.k() == k) {
                return a;
            }
        }
        throw new IllegalArgumentException("k=" + k + " was not evaluated");
    }

    /** @return whether this is a few-shot result */
    public boolean isFewShot() {
        return nPerClass > 0;
    }

    /**
     * One line of JSON, e.g. {@code {"eval":"knn","T":0.07,"num_classes":10,"n_train":60000,"n_test":10000,
     * "k":{"10":{"top1":85.6,"top5":98.1,"mean_per_class":85.5}}}}; few-shot results add {@code n_per_class} and
     * {@code tries}; {@code top5} is left out below 5 classes. Percentages have 4 decimals.
     *
     * @return the JSON object, without a line break
     */
    public String toJson() {
        return toJson(null);
    }

    /**
     * {@link #toJson()} with the features evaluated named after the protocol, as the other protocols' results do:
     * {@code {"eval":"knn","features":"cls","T":0.07,…}}.
     *
     * @param features the feature kind's label, or null for none
     * @return the JSON object, without a line break
     */
    public String toJson(String features) {
        ObjectNode o = Json.object();
        o.put("eval", "knn");
        if (features != null) {
            o.put("features", features);
        }
        o.put("T", temperature);
        o.put("num_classes", numClasses);
        o.put("n_train", nTrain);
        o.put("n_test", nTest);
        if (isFewShot()) {
            o.put("n_per_class", nPerClass);
            o.put("tries", tries);
        }
        ObjectNode byK = o.putObject("k");
        for (KnnAccuracy a : accuracies) {
            ObjectNode m = byK.putObject(Integer.toString(a.k()));
            m.put("top1", Json.num(a.top1()));
            if (a.hasTop5()) {
                m.put("top5", Json.num(a.top5()));
            }
            m.put("mean_per_class", Json.num(a.meanPerClass()));
        }
        return Json.line(o);
    }

    /**
     * A small text table, one row per k, for logs and reports.
     *
     * @return the table, lines separated by {@code \n}, ending with one
     */
    public String toTable() {
        StringBuilder sb = new StringBuilder(256);
        sb.append(String.format(
                Locale.ROOT, "k-NN  T=%s  classes=%d  train=%d  test=%d%n", temperature, numClasses, nTrain, nTest));
        if (isFewShot()) {
            sb.append(String.format(Locale.ROOT, "few-shot: %d per class, mean of %d tries%n", nPerClass, tries));
        }
        sb.append(String.format(Locale.ROOT, "%6s %9s %9s %14s%n", "k", "top-1 %", "top-5 %", "mean/class %"));
        for (KnnAccuracy a : accuracies) {
            sb.append(String.format(
                    Locale.ROOT,
                    "%6d %9.2f %9s %14.2f%n",
                    a.k(),
                    a.top1(),
                    a.hasTop5() ? String.format(Locale.ROOT, "%.2f", a.top5()) : "-",
                    a.meanPerClass()));
        }
        return sb.toString().replace(System.lineSeparator(), "\n");
    }
}
