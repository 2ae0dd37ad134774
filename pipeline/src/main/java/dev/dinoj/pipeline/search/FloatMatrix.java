package dev.dinoj.pipeline.search;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A dense row-major float matrix on the Java heap: {@code rows} vectors of length {@code cols}.
 *
 * @param rows number of vectors
 * @param cols dimension
 * @param data {@code rows * cols} values, row {@code i} at {@code [i * cols, (i + 1) * cols)}; shared, not copied
 */
public record FloatMatrix(int rows, int cols, float[] data) {
    public FloatMatrix {
        Objects.requireNonNull(data, "data");
        if (rows < 0 || cols < 1 || (long) rows * cols != data.length) {
            throw new IllegalArgumentException(
                    "a " + rows + "x" + cols + " matrix needs " + (long) rows * cols + " values, got " + data.length);
        }
    }

    /** Rows stacked from equal-length vectors. */
    public static FloatMatrix ofRows(List<float[]> rows, int cols) {
        float[] d = new float[rows.size() * cols];
        for (int i = 0; i < rows.size(); i++) {
            float[] r = rows.get(i);
            if (r.length != cols) {
                throw new IllegalArgumentException("row " + i + " has length " + r.length + ", expected " + cols);
            }
            System.arraycopy(r, 0, d, i * cols, cols);
        }
        return new FloatMatrix(rows.size(), cols, d);
    }

    /** A copy of row {@code i}. */
    public float[] row(int i) {
        float[] r = new float[cols];
        System.arraycopy(data, i * cols, r, 0, cols);
        return r;
    }

    /** The rows {@code ids}, in that order (a copy). */
    public FloatMatrix select(int[] ids) {
        float[] d = new float[ids.length * cols];
        for (int i = 0; i < ids.length; i++) {
            System.arraycopy(data, ids[i] * cols, d, i * cols, cols);
        }
        return new FloatMatrix(ids.length, cols, d);
    }

    /** Rows {@code [from, to)} as a copy. */
    public FloatMatrix slice(int from, int to) {
        float[] d = new float[(to - from) * cols];
        System.arraycopy(data, from * cols, d, 0, d.length);
        return new FloatMatrix(to - from, cols, d);
    }

    /** Columns {@code [from, to)} of every row, as a copy. */
    public FloatMatrix columns(int from, int to) {
        if (from == 0 && to == cols) {
            return this;
        }
        int w = to - from;
        float[] d = new float[rows * w];
        for (int i = 0; i < rows; i++) {
            System.arraycopy(data, i * cols + from, d, i * w, w);
        }
        return new FloatMatrix(rows, w, d);
    }

    /** Inner product of row {@code i} with row {@code j} of {@code other}. */
    public double dot(int i, FloatMatrix other, int j) {
        double s = 0;
        int a = i * cols;
        int b = j * other.cols;
        for (int c = 0; c < cols; c++) {
            s += data[a + c] * other.data[b + c];
        }
        return s;
    }

    /** Squared L2 norm of every row. */
    public float[] squaredNorms() {
        float[] out = new float[rows];
        for (int i = 0; i < rows; i++) {
            double s = 0;
            for (int c = i * cols, e = c + cols; c < e; c++) {
                s += (double) data[c] * data[c];
            }
            out[i] = (float) s;
        }
        return out;
    }

    /** A copy with every row scaled to unit L2 norm (zero rows stay zero). */
    public FloatMatrix normalizedRows() {
        float[] d = data.clone();
        for (int i = 0; i < rows; i++) {
            double s = 0;
            for (int c = i * cols, e = c + cols; c < e; c++) {
                s += (double) d[c] * d[c];
            }
            if (s > 0) {
                float inv = (float) (1 / Math.sqrt(s));
                for (int c = i * cols, e = c + cols; c < e; c++) {
                    d[c] *= inv;
                }
            }
        }
        return new FloatMatrix(rows, cols, d);
    }

    /** Rows {@code [from, to)} as a native (rows, cols) array of {@code manager} (one copy). */
    public NDArray toNd(NDManager manager, int from, int to) {
        FloatBuffer view =
                FloatBuffer.wrap(data, from * cols, (to - from) * cols).slice();
        return manager.create(view, new Shape(to - from, cols));
    }

    /** The whole matrix as a native array. */
    public NDArray toNd(NDManager manager) {
        return toNd(manager, 0, rows);
    }

    /**
     * Synthetic embeddings for tests and benchmarks: {@code centers} random unit directions, each row one of them plus
     * Gaussian noise of scale {@code noise} per coordinate, L2-normalised. Clustered like real embeddings (uniform
     * random data would be the worst case for any approximate index).
     */
    public static FloatMatrix clustered(int rows, int cols, int centers, double noise, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] c = new float[centers * cols];
        for (int i = 0; i < c.length; i++) {
            c[i] = (float) gaussian(rnd);
        }
        FloatMatrix cm = new FloatMatrix(centers, cols, c).normalizedRows();
        float[] d = new float[rows * cols];
        for (int i = 0; i < rows; i++) {
            int k = rnd.nextInt(centers);
            for (int j = 0; j < cols; j++) {
                d[i * cols + j] = (float) (cm.data[k * cols + j] + noise * gaussian(rnd));
            }
        }
        return new FloatMatrix(rows, cols, d).normalizedRows();
    }

    private static double gaussian(SplittableRandom rnd) {
        double u = 1 - rnd.nextDouble();
        double v = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }

    @Override
    public String toString() {
        return "FloatMatrix[" + rows + "x" + cols + "]";
    }
}
