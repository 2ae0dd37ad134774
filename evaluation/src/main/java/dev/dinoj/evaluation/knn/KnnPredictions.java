package dev.dinoj.evaluation.knn;

import java.util.Arrays;

/**
 * The predicted class of every query, for every k.
 *
 * @param ks the k values, ascending
 * @param predicted {@code predicted[i][q]}: the class predicted for query {@code q} with {@code ks[i]} neighbours
 */
public record KnnPredictions(int[] ks, int[][] predicted) {

    /**
     * The predictions made with {@code k} neighbours.
     *
     * @param k one of {@link #ks()}
     * @return the predicted class of each query (the array itself, not a copy)
     */
    public int[] forK(int k) {
        int i = Arrays.binarySearch(ks, k);
        if (i < 0) {
            throw new IllegalArgumentException("k=" + k + " was not evaluated; ks=" + Arrays.toString(ks));
        }
        return predicted[i];
    }
}
