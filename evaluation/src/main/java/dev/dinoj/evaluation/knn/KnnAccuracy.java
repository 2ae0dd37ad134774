package dev.dinoj.evaluation.knn;

/**
 * The metrics of one k, in percent.
 *
 * @param k neighbours voting
 * @param top1 top-1 accuracy over all queries (the official {@code MEAN_ACCURACY}, torchmetrics {@code micro})
 * @param top5 top-5 accuracy over all queries; {@link Double#NaN} when there are fewer than 5 classes, where the
 *     official metric cannot be built
 * @param meanPerClass top-1 accuracy of each class present in the test set, averaged over those classes
 */
public record KnnAccuracy(int k, double top1, double top5, double meanPerClass) {

    /** @return whether {@link #top5()} was measured (at least 5 classes) */
    public boolean hasTop5() {
        return !Double.isNaN(top5);
    }
}
