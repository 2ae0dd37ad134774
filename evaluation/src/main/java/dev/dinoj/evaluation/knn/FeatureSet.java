package dev.dinoj.evaluation.knn;

import java.util.Arrays;

/**
 * A labelled set of feature vectors, stored row-major in one flat array: row {@code i} is {@code data[i * dim ..
 * (i + 1) * dim)} and its class is {@code labels[i]}.
 *
 * <p>The arrays are not copied (features of a large dataset are big): do not change them while an evaluation
 * runs. Record equality is therefore identity of the arrays.
 *
 * @param data the features, {@code n * dim} floats, row-major
 * @param n the number of samples
 * @param dim the feature dimension
 * @param labels the class of each sample, {@code n} values, each {@code >= 0}
 */
public record FeatureSet(float[] data, int n, int dim, int[] labels) {

    /**
     * Validates the shapes and labels.
     *
     * @param data the features, {@code n * dim} floats, row-major
     * @param n the number of samples
     * @param dim the feature dimension
     * @param labels the class of each sample
     */
    public FeatureSet {
        if (data == null || labels == null) {
            throw new IllegalArgumentException("data and labels must not be null");
        }
        if (n < 0 || dim < 1) {
            throw new IllegalArgumentException("need n >= 0 and dim >= 1, got n=" + n + ", dim=" + dim);
        }
        if ((long) n * dim != data.length) {
            throw new IllegalArgumentException(
                    "data has " + data.length + " floats, expected n * dim = " + n + " * " + dim);
        }
        if (labels.length != n) {
            throw new IllegalArgumentException("labels has " + labels.length + " entries, expected n = " + n);
        }
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0) {
                throw new IllegalArgumentException("label of sample " + i + " is negative: " + labels[i]);
            }
        }
    }

    /**
     * Copies rows of equal length into a new feature set.
     *
     * @param rows the feature vectors, one per sample, all of the same length
     * @param labels the class of each row
     * @return the feature set
     */
    public static FeatureSet of(float[][] rows, int[] labels) {
        if (rows.length == 0) {
            throw new IllegalArgumentException("need at least one row to know the dimension");
        }
        int dim = rows[0].length;
        float[] data = new float[Math.multiplyExact(rows.length, dim)];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i].length != dim) {
                throw new IllegalArgumentException("row " + i + " has " + rows[i].length + " values, row 0 has " + dim);
            }
            System.arraycopy(rows[i], 0, data, i * dim, dim);
        }
        return new FeatureSet(data, rows.length, dim, labels.clone());
    }

    /**
     * A copy of the given rows, in the given order.
     *
     * @param indices row indices, each in {@code [0, n)}
     * @return the new feature set
     */
    public FeatureSet subset(int[] indices) {
        float[] out = new float[Math.multiplyExact(indices.length, dim)];
        int[] outLabels = new int[indices.length];
        for (int i = 0; i < indices.length; i++) {
            int row = indices[i];
            if (row < 0 || row >= n) {
                throw new IndexOutOfBoundsException("row " + row + " not in [0, " + n + ")");
            }
            System.arraycopy(data, row * dim, out, i * dim, dim);
            outLabels[i] = labels[row];
        }
        return new FeatureSet(out, indices.length, dim, outLabels);
    }

    /** @return the largest label plus one (0 for an empty set): the official {@code train_labels.max() + 1} */
    public int labelCount() {
        return Arrays.stream(labels).max().orElse(-1) + 1;
    }

    @Override
    public String toString() {
        return "FeatureSet[n=" + n + ", dim=" + dim + "]";
    }
}
