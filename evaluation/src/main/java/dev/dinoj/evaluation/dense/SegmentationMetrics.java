package dev.dinoj.evaluation.dense;

/**
 * A confusion matrix over pixels (or patches) accumulated over a whole test set, and the IoU measures mmseg
 * reports for it: per class {@code IoU_c = TP / (TP + FP + FN)} from the dataset-wide totals, mIoU the mean over
 * the classes whose union is not empty ({@code nanmean}), and pixel accuracy.
 */
public final class SegmentationMetrics {

    private final int classes;
    private final long[][] confusion; // [label][predicted]

    /** @param classes the number of classes */
    public SegmentationMetrics(int classes) {
        this.classes = classes;
        this.confusion = new long[classes][classes];
    }

    /**
     * Adds predictions.
     *
     * @param predicted predicted class per pixel
     * @param labels true class per pixel
     */
    public void add(int[] predicted, int[] labels) {
        if (predicted.length != labels.length) {
            throw new IllegalArgumentException("predicted and labels differ in length");
        }
        for (int i = 0; i < labels.length; i++) {
            confusion[labels[i]][predicted[i]]++;
        }
    }

    /**
     * Adds one prediction.
     *
     * @param predicted the predicted class
     * @param label the true class
     */
    public void add(int predicted, int label) {
        confusion[label][predicted]++;
    }

    /** @return IoU of each class in [0, 1]; NaN for a class that is neither present nor predicted */
    public double[] iou() {
        double[] out = new double[classes];
        for (int c = 0; c < classes; c++) {
            long tp = confusion[c][c];
            long union = -tp;
            for (int k = 0; k < classes; k++) {
                union += confusion[c][k] + confusion[k][c];
            }
            out[c] = union == 0 ? Double.NaN : (double) tp / union;
        }
        return out;
    }

    /** @return the mean IoU over classes with a non-empty union, in [0, 1] */
    public double meanIou() {
        double sum = 0;
        int m = 0;
        for (double v : iou()) {
            if (!Double.isNaN(v)) {
                sum += v;
                m++;
            }
        }
        return m == 0 ? Double.NaN : sum / m;
    }

    /** @return the share of correctly classified pixels, in [0, 1] */
    public double accuracy() {
        long right = 0;
        long total = 0;
        for (int c = 0; c < classes; c++) {
            for (int k = 0; k < classes; k++) {
                total += confusion[c][k];
            }
            right += confusion[c][c];
        }
        return total == 0 ? Double.NaN : (double) right / total;
    }
}
