package dev.dinoj.evaluation.metrics;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Classification metrics in percent, as dinov2's {@code build_topk_accuracy_metric}: top-1 and top-5 over all
 * samples (torchmetrics {@code average="micro"}) and top-1 averaged over the classes present ({@code "macro"}).
 *
 * @param top1 top-1 accuracy, %
 * @param top5 top-5 accuracy, %; NaN with fewer than 5 classes
 * @param meanPerClass mean over present classes of the per-class top-1 accuracy, %
 * @param n samples scored
 */
public record Accuracy(double top1, double top5, double meanPerClass, int n) {

    /**
     * Metrics of class scores. Ranking ties go to the lower class index, as {@code argmax}.
     *
     * @param scores {@code n × classes} scores (logits or probabilities), row-major
     * @param classes the number of classes
     * @param labels the true class of each row
     * @return the metrics
     */
    public static Accuracy of(float[] scores, int classes, int[] labels) {
        int n = labels.length;
        if ((long) n * classes != scores.length) {
            throw new IllegalArgumentException(
                    "scores has " + scores.length + " values, expected " + n + " × " + classes);
        }
        int top1 = 0;
        int top5 = 0;
        int[] perClassTotal = new int[classes];
        int[] perClassRight = new int[classes];
        for (int i = 0; i < n; i++) {
            int y = labels[i];
            float sy = scores[i * classes + y];
            int rank = 0; // classes ranked strictly before y
            for (int c = 0; c < classes; c++) {
                float s = scores[i * classes + c];
                if (s > sy || (s == sy && c < y)) {
                    rank++;
                }
            }
            perClassTotal[y]++;
            if (rank == 0) {
                top1++;
                perClassRight[y]++;
            }
            if (rank < 5) {
                top5++;
            }
        }
        double sum = 0;
        int present = 0;
        for (int c = 0; c < classes; c++) {
            if (perClassTotal[c] > 0) {
                sum += 100.0 * perClassRight[c] / perClassTotal[c];
                present++;
            }
        }
        return new Accuracy(
                100.0 * top1 / n,
                classes >= 5 ? 100.0 * top5 / n : Double.NaN,
                present == 0 ? Double.NaN : sum / present,
                n);
    }

    /**
     * Metrics of predicted classes (top-5 is NaN).
     *
     * @param predicted the predicted class of each sample
     * @param labels the true classes
     * @param classes the number of classes
     * @return the metrics
     */
    public static Accuracy ofPredictions(int[] predicted, int[] labels, int classes) {
        int right = 0;
        int[] total = new int[classes];
        int[] ok = new int[classes];
        for (int i = 0; i < labels.length; i++) {
            total[labels[i]]++;
            if (predicted[i] == labels[i]) {
                right++;
                ok[labels[i]]++;
            }
        }
        double sum = 0;
        int present = 0;
        for (int c = 0; c < classes; c++) {
            if (total[c] > 0) {
                sum += 100.0 * ok[c] / total[c];
                present++;
            }
        }
        return new Accuracy(
                100.0 * right / labels.length, Double.NaN, present == 0 ? Double.NaN : sum / present, labels.length);
    }

    /** @return whether top-5 was measured */
    public boolean hasTop5() {
        return !Double.isNaN(top5);
    }

    /** @return {@code {"top1":…,"top5":…,"mean_per_class":…}} (top5 left out when not measured), 4 decimals */
    public ObjectNode toJson() {
        ObjectNode o = Json.object();
        o.put("top1", Json.num(top1));
        if (hasTop5()) {
            o.put("top5", Json.num(top5));
        }
        o.put("mean_per_class", Json.num(meanPerClass));
        return o;
    }
}
