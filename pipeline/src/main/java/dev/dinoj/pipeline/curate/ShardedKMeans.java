package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.pipeline.search.KMeans;
import dev.dinoj.pipeline.shards.EmbeddingShards;
import dev.dinoj.pipeline.shards.RowSelection;
import dev.dinoj.pipeline.shards.ShardStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * k-means over a pool that stays on disk or S3 (float16 shards, one directory per partition), as ssl-data-curation's
 * distributed k-means: every pass streams the shards a block at a time, assigns each block to its nearest centroid
 * ({@link KMeans#assign}: one GEMM per block) and accumulates per-centroid sums and counts ({@link Partial}); the
 * centroid update is the reduce of the partials (in partition order, so that the result does not depend on who
 * computed which partition). An empty cluster keeps its centroid. k-means++ seeds on a uniform sample of
 * {@code initSamplePerCentroid × k} rows read from the shards.
 *
 * <p>A k-means may be restricted to some rows of every partition: a named {@link RowSelection} beside each partition
 * ({@link Partitions#selection}), which every pass and the seeding sample read, so that the rows are numbered in the
 * selection (partition order, then row order).
 *
 * <p>The passes run through a {@link Backend}: {@link Local} runs the partitions one after the other in this JVM;
 * the cluster's curation driver sends each partition's pass to a curation worker. The last pass writes every
 * partition's assignment beside it ({@link PartitionAssignments}).
 */
public final class ShardedKMeans {
    /** Rows per assignment block (one GEMM each). */
    public static final int DEFAULT_BLOCK_ROWS = 8192;

    private ShardedKMeans() {}

    /**
     * Per-centroid sums and counts of one pass over some rows: what a worker sends to the driver.
     *
     * @param k       centroids
     * @param d       dimension
     * @param sums    {@code [k, d]} sums of the rows assigned to each centroid
     * @param counts  rows assigned to each centroid
     * @param inertia sum of squared distances to the nearest centroid
     */
    public record Partial(int k, int d, double[] sums, long[] counts, double inertia) {
        /** Nothing yet. */
        public static Partial empty(int k, int d) {
            return new Partial(k, d, new double[k * d], new long[k], 0);
        }

        /** The sum of this and {@code o} (a new partial). */
        public Partial plus(Partial o) {
            if (o.k != k || o.d != d) {
                throw new IllegalArgumentException("partials of " + k + "x" + d + " and " + o.k + "x" + o.d);
            }
            double[] s = sums.clone();
            for (int i = 0; i < s.length; i++) {
                s[i] += o.sums[i];
            }
            long[] c = counts.clone();
            for (int i = 0; i < c.length; i++) {
                c[i] += o.counts[i];
            }
            return new Partial(k, d, s, c, inertia + o.inertia);
        }

        /** Rows counted. */
        public long rows() {
            return Arrays.stream(counts).sum();
        }
    }

    /** The passes of one k-means. */
    public interface Backend {
        /** Rows of the pool. */
        long rows();

        /** The rows {@code ids} (global row numbers, sorted, distinct), for the seeding. */
        FloatMatrix sample(long[] ids) throws IOException;

        /**
         * One pass: the partials of every partition with {@code centroids}, summed in partition order.
         *
         * @param last whether to write every partition's assignment
         */
        Partial pass(FloatMatrix centroids, int pass, boolean last) throws IOException;
    }

    /**
     * @param k                     clusters (capped at the number of rows)
     * @param iterations            centroid updates (passes = iterations + 1)
     * @param seed                  random seed of the seeding sample and k-means++
     * @param initSamplePerCentroid seeding sample rows per centroid
     */
    public record Settings(int k, int iterations, long seed, int initSamplePerCentroid) {
        public Settings {
            if (k < 1 || iterations < 0 || initSamplePerCentroid < 1) {
                throw new IllegalArgumentException(
                        "bad sharded k-means settings: k " + k + ", iterations " + iterations);
            }
        }
    }

    /**
     * A clustering.
     *
     * @param centroids   {@code [k, d]}
     * @param inertia     sum of squared distances with the final centroids
     * @param counts      rows per cluster
     * @param passes      passes over the shards
     * @param initSeconds seeding time
     * @param seconds     total time
     */
    public record Result(
            FloatMatrix centroids, double inertia, long[] counts, int passes, double initSeconds, double seconds) {}

    /** Clusters the pool of {@code b}. */
    public static Result fit(Backend b, Settings s, Consumer<String> progress) throws IOException {
        long t0 = System.nanoTime();
        long n = b.rows();
        if (n < 1) {
            throw new IllegalArgumentException("k-means of an empty pool");
        }
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("pools over 2^31 rows are not supported: " + n);
        }
        int k = (int) Math.min(s.k(), n);
        SplittableRandom rnd = new SplittableRandom(s.seed());
        int m = (int) Math.min(n, (long) s.initSamplePerCentroid() * k);
        int[] picked = KMeans.sampleWithoutReplacement((int) n, m, rnd);
        long[] ids = Arrays.stream(picked).asLongStream().toArray();
        FloatMatrix sample = b.sample(ids);
        FloatMatrix c = KMeans.fit(
                        sample,
                        new KMeans.Settings(
                                k,
                                0,
                                KMeans.Init.KMEANS_PLUS_PLUS,
                                s.seed(),
                                s.initSamplePerCentroid(),
                                128L << 20,
                                dev.dinoj.pipeline.search.Precision.auto()))
                .centroids();
        double init = (System.nanoTime() - t0) / 1e9;
        Partial p = b.pass(c, 0, s.iterations() == 0);
        for (int it = 1; it <= s.iterations(); it++) {
            c = reduce(p, c);
            p = b.pass(c, it, it == s.iterations());
            if (progress != null) {
                progress.accept(String.format(
                        java.util.Locale.ROOT, "k-means pass %d/%d: inertia %.6g", it, s.iterations(), p.inertia()));
            }
        }
        return new Result(c, p.inertia(), p.counts(), s.iterations() + 1, init, (System.nanoTime() - t0) / 1e9);
    }

    /** The update: means of the assigned rows; an empty cluster keeps its {@code previous} centroid. */
    public static FloatMatrix reduce(Partial total, FloatMatrix previous) {
        int k = total.k();
        int d = total.d();
        float[] out = new float[k * d];
        for (int c = 0; c < k; c++) {
            if (total.counts()[c] == 0) {
                System.arraycopy(previous.data(), c * d, out, c * d, d);
                continue;
            }
            double inv = 1.0 / total.counts()[c];
            for (int j = 0; j < d; j++) {
                out[c * d + j] = (float) (total.sums()[c * d + j] * inv);
            }
        }
        return new FloatMatrix(k, d, out);
    }

    /**
     * One partition's pass: streams its shards a block at a time and accumulates the partial.
     *
     * @param out receives the assignment of every row when not null
     */
    public static Partial assign(
            EmbeddingShards.Reader r, FloatMatrix centroids, int blockRows, PartitionAssignments out)
            throws IOException {
        int k = centroids.rows();
        int d = centroids.cols();
        if (r.dim() != d) {
            throw new IllegalArgumentException("shards of dim " + r.dim() + ", centroids of dim " + d);
        }
        double[] sums = new double[k * d];
        long[] counts = new long[k];
        double[] inertia = {0};
        r.forEachBlock(blockRows, (first, block) -> {
            KMeans.Assignment a = KMeans.assign(block, centroids, 128L << 20);
            float[] x = block.data();
            for (int i = 0; i < block.rows(); i++) {
                int c = a.assignment()[i];
                counts[c]++;
                inertia[0] += a.distances()[i];
                int o = c * d;
                int row = i * d;
                for (int j = 0; j < d; j++) {
                    sums[o + j] += x[row + j];
                }
            }
            if (out != null) {
                System.arraycopy(a.assignment(), 0, out.cluster(), (int) first, block.rows());
                System.arraycopy(a.distances(), 0, out.distance(), (int) first, block.rows());
            }
        });
        return new Partial(k, d, sums, counts, inertia[0]);
    }

    /**
     * One partition's pass as a worker runs it: opens {@link Partitions#embeddings}{@code (p)} of {@code store}, and
     * on the last pass writes {@link Partitions#assignments}{@code (p)}.
     */
    public static Partial assignPartition(ShardStore store, int p, FloatMatrix centroids, boolean last, int blockRows)
            throws IOException {
        return assignPartition(store, p, null, centroids, last, blockRows);
    }

    /**
     * One partition's pass over the rows of its selection {@code selection} ({@link Partitions#selection}; null = every
     * row); the assignment written on the last pass holds the selected rows, in order.
     */
    public static Partial assignPartition(
            ShardStore store, int p, String selection, FloatMatrix centroids, boolean last, int blockRows)
            throws IOException {
        EmbeddingShards.Reader r = openPartition(store, p, selection);
        PartitionAssignments out = last
                ? new PartitionAssignments(new int[(int) r.rows()], new float[(int) r.rows()], centroids.rows())
                : null;
        Partial partial = assign(r, centroids, blockRows, out);
        if (out != null) {
            out.write(store, Partitions.assignments(p));
        }
        return partial;
    }

    /** The shard readers of partitions {@code 0 … n−1} of {@code store}. */
    public static List<EmbeddingShards.Reader> open(ShardStore store, int partitions) throws IOException {
        return open(store, partitions, null);
    }

    /** The shard readers of partitions {@code 0 … n−1} of {@code store}, restricted to {@code selection} if not null. */
    public static List<EmbeddingShards.Reader> open(ShardStore store, int partitions, String selection)
            throws IOException {
        List<EmbeddingShards.Reader> out = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            out.add(openPartition(store, p, selection));
        }
        return out;
    }

    /** Partition {@code p}'s shard reader, restricted to its selection {@code selection} if not null. */
    public static EmbeddingShards.Reader openPartition(ShardStore store, int p, String selection) throws IOException {
        EmbeddingShards.Reader r = EmbeddingShards.Reader.open(store, Partitions.embeddings(p));
        return selection == null ? r : r.select(RowSelection.read(store, Partitions.selection(p, selection), r.rows()));
    }

    /** Rows {@code ids} (global, sorted) of the partitions {@code parts}, concatenated in partition order. */
    public static FloatMatrix sample(List<EmbeddingShards.Reader> parts, long[] ids) throws IOException {
        int d = parts.get(0).dim();
        float[] out = new float[ids.length * d];
        long start = 0;
        int i = 0;
        for (EmbeddingShards.Reader r : parts) {
            int from = i;
            while (i < ids.length && ids[i] < start + r.rows()) {
                i++;
            }
            long[] local = new long[i - from];
            for (int j = 0; j < local.length; j++) {
                local[j] = ids[from + j] - start;
            }
            if (local.length > 0) {
                FloatMatrix m = r.rows(local);
                System.arraycopy(m.data(), 0, out, from * d, m.data().length);
            }
            start += r.rows();
        }
        return new FloatMatrix(ids.length, d, out);
    }

    /** All partitions in this JVM, one after the other. */
    public static final class Local implements Backend {
        private final ShardStore store;
        private final List<EmbeddingShards.Reader> parts;
        private final int blockRows;
        private final String selection;

        public Local(ShardStore store, int partitions, int blockRows) throws IOException {
            this(store, partitions, blockRows, null);
        }

        /** Over the rows of the partitions' selection {@code selection} (null = every row). */
        public Local(ShardStore store, int partitions, int blockRows, String selection) throws IOException {
            this.store = store;
            this.parts = open(store, partitions, selection);
            this.blockRows = blockRows;
            this.selection = selection;
        }

        @Override
        public long rows() {
            return parts.stream().mapToLong(EmbeddingShards.Reader::rows).sum();
        }

        @Override
        public FloatMatrix sample(long[] ids) throws IOException {
            return ShardedKMeans.sample(parts, ids);
        }

        @Override
        public Partial pass(FloatMatrix centroids, int pass, boolean last) throws IOException {
            Partial total = Partial.empty(centroids.rows(), centroids.cols());
            for (int p = 0; p < parts.size(); p++) {
                total = total.plus(assignPartition(store, p, selection, centroids, last, blockRows));
            }
            return total;
        }
    }
}
