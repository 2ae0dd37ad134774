package dev.dinoj.evaluation.report;

import dev.dinoj.evaluation.features.EvalDataset;
import java.util.Locale;

/** The report's class names: the overview's list, and the newest checkpoint's k-NN top-1 per class. */
final class ClassTable {

    /** Names listed in the overview before the rest is summarised. */
    static final int LISTED = 50;

    private ClassTable() {}

    /** {@code 3: circles, squares, triangles}, or how many unnamed classes the labels have. */
    static String names(EvalDataset ds) {
        if (ds.classes().isEmpty()) {
            return ds.images().numClasses() + " (unnamed)";
        }
        int n = ds.classes().size();
        String shown = String.join(", ", ds.classes().subList(0, Math.min(n, LISTED)));
        return n + ": " + shown + (n > LISTED ? ", … (" + (n - LISTED) + " more)" : "");
    }

    /**
     * A table of the test images, correct predictions and top-1 per class.
     *
     * @param train the reference set (its class names)
     * @param truth the test labels
     * @param predicted the k-NN's predictions
     * @param k the k
     * @return the HTML
     */
    static String html(EvalDataset train, int[] truth, int[] predicted, int k) {
        int classes = Math.max(train.classes().size(), max(truth) + 1);
        int[] n = new int[classes];
        int[] right = new int[classes];
        for (int i = 0; i < truth.length; i++) {
            n[truth[i]]++;
            if (predicted[i] == truth[i]) {
                right[truth[i]]++;
            }
        }
        StringBuilder sb = new StringBuilder("<table class=\"per-class\"><tr><th>class</th><th>test images</th>"
                + "<th>k-NN top-1 % (k = " + k + ", newest checkpoint)</th></tr>\n");
        for (int c = 0; c < classes; c++) {
            if (n[c] > 0) {
                HtmlPage.row(
                        sb,
                        train.className(c),
                        Integer.toString(n[c]),
                        String.format(Locale.ROOT, "%.2f", 100.0 * right[c] / n[c]));
            }
        }
        return sb.append("</table>\n").toString();
    }

    private static int max(int[] v) {
        int m = -1;
        for (int x : v) {
            m = Math.max(m, x);
        }
        return m;
    }
}
