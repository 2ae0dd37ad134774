package dev.dinoj.pipeline.search;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import dev.dinoj.pipeline.compute.SearchKernels;
import java.util.Arrays;
import java.util.HashMap;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;

/**
 * Lloyd's k-means in squared L2 with k-means++ (greedy, {@code 2 + ln k} local trials, as scikit-learn and
 * ssl-data-curation's {@code kmeans_plusplus}) or random initialisation.
 *
 * <p>The assignment step is the expensive one: for each row block of the data (natively held once), one GEMM with the
 * centroids gives {@code x·c − ‖c‖²/2}, whose arg-max over centroids is the nearest centroid
 * ({@link SearchKernels#assign}). With {@link Precision#BFLOAT16} the GEMM runs in bfloat16 and the 3 best centroids of
 * each row are re-scored in float32, so the assignment is the float32 one except at true near-ties. The update step
 * (means; an empty cluster keeps its centroid, as ssl-data-curation does) runs on the heap in double precision.
 * k-means++ seeds on a random subsample of {@code initSamplePerCentroid × k} rows when the data is larger.
 */
public final class KMeans {
    private KMeans() {}

    /** Initialisation. */
    public enum Init {
        /** Greedy k-means++ (on a subsample of {@code initSamplePerCentroid * k} rows at most). */
        KMEANS_PLUS_PLUS,
        /** k distinct random rows (Faiss' default). */
        RANDOM
    }

    /**
     * @param k                     clusters (capped at the number of rows)
     * @param iterations            Lloyd iterations after the initial assignment
     * @param init                  initialisation
     * @param seed                  random seed (initialisation and subsampling)
     * @param initSamplePerCentroid k-means++ runs on at most this many rows per centroid
     * @param maxBlockBytes         bound of one (rows × k) score block
     * @param precision             arithmetic of the assignment GEMMs
     */
    public record Settings(
            int k,
            int iterations,
            Init init,
            long seed,
            int initSamplePerCentroid,
            long maxBlockBytes,
            Precision precision) {
        public Settings {
            if (k < 1 || iterations < 0 || initSamplePerCentroid < 1 || maxBlockBytes < 1024 || precision == null) {
                throw new IllegalArgumentException("bad k-means settings: k " + k + ", iterations " + iterations);
            }
        }

        /** k-means++ with a 16-rows-per-centroid seeding sample, 128 MiB score blocks and {@link Precision#auto()}. */
        public static Settings of(int k, int iterations, long seed) {
            return new Settings(k, iterations, Init.KMEANS_PLUS_PLUS, seed, 16, 128L << 20, Precision.auto());
        }

        public Settings withInit(Init i) {
            return new Settings(k, iterations, i, seed, initSamplePerCentroid, maxBlockBytes, precision);
        }

        public Settings withPrecision(Precision p) {
            return new Settings(k, iterations, init, seed, initSamplePerCentroid, maxBlockBytes, p);
        }
    }

    /**
     * A clustering.
     *
     * @param centroids      {@code [k, d]}
     * @param assignment     nearest centroid of each row
     * @param distances      squared L2 distance of each row to its centroid
     * @param inertia        sum of {@code distances}
     * @param initSeconds    time of the initialisation
     * @param iterateSeconds time of the assignment + update iterations
     */
    public record Result(
            FloatMatrix centroids,
            int[] assignment,
            float[] distances,
            double inertia,
            double initSeconds,
            double iterateSeconds) {
        /** Row ids of each cluster, each list sorted by distance to its centroid (closest first), then by id. */
        public int[][] clustersByDistance() {
            return clusters(assignment, distances, centroids.rows());
        }
    }

    /** Clusters a matrix. */
    public static Result fit(FloatMatrix x, Settings s) {
        return fit(x, s, null);
    }

    /**
     * Clusters a matrix.
     *
     * @param progress called with the iteration number after each iteration (may be null)
     */
    public static Result fit(FloatMatrix x, Settings s, IntConsumer progress) {
        int n = x.rows();
        if (n == 0) {
            throw new IllegalArgumentException("k-means of an empty matrix");
        }
        int k = Math.min(s.k(), n);
        SplittableRandom rnd = new SplittableRandom(s.seed());
        long t0 = System.nanoTime();
        try (Assigner assigner = new Assigner(x, k, s.maxBlockBytes(), s.precision())) {
            FloatMatrix c =
                    s.init() == Init.RANDOM ? randomRows(x, k, rnd) : plusPlus(x, k, s.initSamplePerCentroid(), rnd);
            long t1 = System.nanoTime();
            Assignment a = assigner.assign(c);
            for (int it = 0; it < s.iterations(); it++) {
                c = update(x, a.assignment, c);
                a = assigner.assign(c);
                if (progress != null) {
                    progress.accept(it + 1);
                }
            }
            long t2 = System.nanoTime();
            double inertia = 0;
            for (float v : a.distances) {
                inertia += v;
            }
            return new Result(c, a.assignment, a.distances, inertia, (t1 - t0) / 1e9, (t2 - t1) / 1e9);
        }
    }

    /** Nearest of {@code centroids} for every row of {@code x}, with the squared distance ({@link Precision#auto()}). */
    public static Assignment assign(FloatMatrix x, FloatMatrix centroids, long maxBlockBytes) {
        return assign(x, centroids, maxBlockBytes, Precision.auto());
    }

    /** Nearest of {@code centroids} for every row of {@code x}, with the squared distance. */
    public static Assignment assign(FloatMatrix x, FloatMatrix centroids, long maxBlockBytes, Precision precision) {
        try (Assigner a = new Assigner(x, centroids.rows(), maxBlockBytes, precision)) {
            return a.assign(centroids);
        }
    }

    /**
     * Nearest centroids.
     *
     * @param assignment centroid of each row
     * @param distances  squared L2 distance to it
     */
    public record Assignment(int[] assignment, float[] distances) {}

    /** Row ids per cluster, sorted by distance (then id). */
    public static int[][] clusters(int[] assignment, float[] distances, int k) {
        int[] counts = new int[k];
        for (int a : assignment) {
            counts[a]++;
        }
        int[][] out = new int[k][];
        for (int c = 0; c < k; c++) {
            out[c] = new int[counts[c]];
        }
        int[] fill = new int[k];
        for (int i = 0; i < assignment.length; i++) {
            out[assignment[i]][fill[assignment[i]]++] = i;
        }
        for (int[] members : out) {
            Integer[] boxed = Arrays.stream(members).boxed().toArray(Integer[]::new);
            Arrays.sort(boxed, (p, q) -> {
                int cmp = Float.compare(distances[p], distances[q]);
                return cmp != 0 ? cmp : Integer.compare(p, q);
            });
            for (int i = 0; i < members.length; i++) {
                members[i] = boxed[i];
            }
        }
        return out;
    }

    /**
     * Holds the data natively in row blocks sized for {@code k} centroids (and a bfloat16 copy of each block for
     * {@link Precision#BFLOAT16}), and assigns rows to centroids.
     */
    static final class Assigner implements AutoCloseable {
        /** bfloat16 front-runners re-scored in float32 per row. */
        static final int RECHECK = 3;

        private final FloatMatrix x;
        private final float[] sqNorms;
        private final Precision precision;
        private final NDManager manager = NDManager.newBaseManager();
        private final NDArray[] blocks;
        private final NDArray[] low;
        private final int[] starts;
        private final int group;
        private final int chunk;

        Assigner(FloatMatrix x, int k, long maxBlockBytes, Precision precision) {
            this.x = x;
            this.sqNorms = x.squaredNorms();
            this.precision = precision;
            int n = x.rows();
            int rowsPerBlock = (int) Math.max(1, Math.min(n, maxBlockBytes / 4 / Math.max(1, k)));
            int nb = (n + rowsPerBlock - 1) / rowsPerBlock;
            blocks = new NDArray[nb];
            low = new NDArray[nb];
            starts = new int[nb + 1];
            for (int b = 0; b < nb; b++) {
                starts[b] = b * rowsPerBlock;
                int end = Math.min(n, starts[b] + rowsPerBlock);
                blocks[b] = x.toNd(manager, starts[b], end); // [len, d]
                low[b] = precision == Precision.BFLOAT16 ? SearchKernels.toBfloat16(blocks[b], end - starts[b]) : null;
            }
            starts[nb] = n;
            group = 1; // torch.topk over the k scores: the grouped selection saves no time at k ≤ 4096, and adds ops
            // rows per GEMM inside a block: score chunk and gathered candidates of at most 16 MiB each, which malloc
            // reuses (no page faults per chunk), with few enough chunks to keep the native parallel regions few
            long perRow = Math.max(2L * k, 4L * RECHECK * x.cols());
            chunk = (int) Math.max(64, Math.min(rowsPerBlock, (16L << 20) / perRow));
        }

        Assignment assign(FloatMatrix c) {
            int n = x.rows();
            int k = c.rows();
            int[] assignment = new int[n];
            float[] dist = new float[n];
            float[] halfNorms = c.squaredNorms();
            for (int j = 0; j < k; j++) {
                halfNorms[j] *= 0.5f;
            }
            boolean bf16 = precision == Precision.BFLOAT16;
            try (NDManager sub = manager.newSubManager()) {
                NDArray cn = c.toNd(sub); // [k, d]
                NDArray half = sub.create(halfNorms); // [k]
                for (int b = 0; b < blocks.length; b++) {
                    float[] bv;
                    long[] av;
                    try (NDList r = SearchKernels.assign(
                            blocks[b], bf16 ? low[b] : blocks[b], cn, half, RECHECK, group, bf16, chunk)) {
                        bv = r.get(0).toFloatArray(); // best x·c − ‖c‖²/2
                        av = r.get(1).toLongArray();
                    }
                    for (int i = 0; i < bv.length; i++) {
                        int row = starts[b] + i;
                        assignment[row] = (int) av[i];
                        dist[row] = Math.max(0f, sqNorms[row] - 2 * bv[i]);
                    }
                }
            }
            return new Assignment(assignment, dist);
        }

        @Override
        public void close() {
            manager.close();
        }
    }

    /** Means of the assigned rows; an empty cluster keeps its previous centroid. */
    static FloatMatrix update(FloatMatrix x, int[] assignment, FloatMatrix previous) {
        int k = previous.rows();
        int d = x.cols();
        double[] sums = new double[k * d];
        int[] counts = new int[k];
        float[] xd = x.data();
        for (int i = 0; i < assignment.length; i++) {
            int c = assignment[i];
            counts[c]++;
            int o = c * d;
            int r = i * d;
            for (int j = 0; j < d; j++) {
                sums[o + j] += xd[r + j];
            }
        }
        float[] out = new float[k * d];
        for (int c = 0; c < k; c++) {
            if (counts[c] == 0) {
                System.arraycopy(previous.data(), c * d, out, c * d, d);
                continue;
            }
            double inv = 1.0 / counts[c];
            for (int j = 0; j < d; j++) {
                out[c * d + j] = (float) (sums[c * d + j] * inv);
            }
        }
        return new FloatMatrix(k, d, out);
    }

    static FloatMatrix randomRows(FloatMatrix x, int k, SplittableRandom rnd) {
        return x.select(sampleWithoutReplacement(x.rows(), k, rnd));
    }

    /** {@code m} distinct ints of {@code [0, n)}, sorted (partial Fisher-Yates on a sparse map when m << n). */
    public static int[] sampleWithoutReplacement(int n, int m, SplittableRandom rnd) {
        if (m > n) {
            throw new IllegalArgumentException("cannot sample " + m + " of " + n);
        }
        HashMap<Integer, Integer> swapped = new HashMap<>();
        int[] out = new int[m];
        for (int i = 0; i < m; i++) {
            int j = i + rnd.nextInt(n - i);
            int vi = swapped.getOrDefault(i, i);
            int vj = swapped.getOrDefault(j, j);
            swapped.put(j, vi);
            out[i] = vj;
        }
        Arrays.sort(out);
        return out;
    }

    /** Greedy k-means++ on (a subsample of) {@code x}. */
    static FloatMatrix plusPlus(FloatMatrix x, int k, int samplePerCentroid, SplittableRandom rnd) {
        FloatMatrix s = x;
        long cap = (long) samplePerCentroid * k;
        if (x.rows() > cap) {
            s = x.select(sampleWithoutReplacement(x.rows(), (int) cap, rnd));
        }
        int n = s.rows();
        int d = s.cols();
        float[] sq = s.squaredNorms();
        int trials = 2 + (int) Math.log(k);
        float[] centers = new float[k * d];
        double[] closest = new double[n];
        double[] cumulative = new double[n];
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray pt = s.toNd(manager).transpose(); // [d, n]
            int first = rnd.nextInt(n);
            System.arraycopy(s.data(), first * d, centers, 0, d);
            float[] dots = dots(manager, s, new int[] {first}, pt); // [1, n]
            double pot = 0;
            for (int i = 0; i < n; i++) {
                closest[i] = Math.max(0, sq[first] + sq[i] - 2.0 * dots[i]);
                pot += closest[i];
            }
            int[] cand = new int[trials];
            double[] candPot = new double[trials];
            for (int c = 1; c < k; c++) {
                double acc = 0;
                for (int i = 0; i < n; i++) {
                    acc += closest[i];
                    cumulative[i] = acc;
                }
                for (int t = 0; t < trials; t++) {
                    double r = rnd.nextDouble() * acc;
                    int pos = Arrays.binarySearch(cumulative, r);
                    cand[t] = Math.min(n - 1, pos >= 0 ? pos : -pos - 1);
                }
                float[] dd = dots(manager, s, cand, pt); // [trials, n]
                int best = 0;
                for (int t = 0; t < trials; t++) {
                    double p = 0;
                    int ct = cand[t];
                    for (int i = 0; i < n; i++) {
                        double dist = Math.max(0, sq[ct] + sq[i] - 2.0 * dd[t * n + i]);
                        p += Math.min(closest[i], dist);
                    }
                    candPot[t] = p;
                    if (p < candPot[best]) {
                        best = t;
                    }
                }
                int chosen = cand[best];
                for (int i = 0; i < n; i++) {
                    double dist = Math.max(0, sq[chosen] + sq[i] - 2.0 * dd[best * n + i]);
                    if (dist < closest[i]) {
                        closest[i] = dist;
                    }
                }
                System.arraycopy(s.data(), chosen * d, centers, c * d, d);
            }
        }
        return new FloatMatrix(k, d, centers);
    }

    /** Inner products of rows {@code ids} of {@code s} with all of its rows ({@code pt} = s transposed): [ids, n]. */
    private static float[] dots(NDManager manager, FloatMatrix s, int[] ids, NDArray pt) {
        try (NDManager sub = manager.newSubManager()) {
            NDArray c = s.select(ids).toNd(sub); // [t, d]
            return c.matMul(pt).toFloatArray(); // [t, n]
        }
    }
}
