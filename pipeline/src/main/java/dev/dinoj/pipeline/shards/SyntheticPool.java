package dev.dinoj.pipeline.shards;

import dev.dinoj.pipeline.search.FloatMatrix;
import java.io.IOException;
import java.util.SplittableRandom;
import java.util.function.IntFunction;

/**
 * An embeddings-only synthetic pool for the global stages of curation: {@code n} unit vectors of dimension {@code dim}
 * drawn from a mixture of {@code centers} isotropic Gaussians (random unit means, {@code noise} per coordinate, then
 * L2-normalised, as {@link FloatMatrix#clustered}), split into {@code partitions} contiguous ranges (partition
 * {@code p} holds rows {@code [round(n·p/P), round(n·(p+1)/P))}, as ssl-data-curation splits a pool among ranks), each
 * written as float16 shards to the directory {@code dirOf(p)} of a store (curation passes
 * {@code Partitions::embeddings}, under the run's {@code curation} directory). Generated a block at a time: the heap never holds the pool.
 */
public final class SyntheticPool {
    private SyntheticPool() {}

    /** The pool's shape. */
    public record Spec(long n, int dim, int centers, double noise, int partitions, int rowsPerShard, long seed) {
        public Spec {
            if (n < 1 || dim < 1 || centers < 1 || partitions < 1 || rowsPerShard < 1 || noise < 0) {
                throw new IllegalArgumentException("bad synthetic pool: n " + n + ", dim " + dim + ", centers "
                        + centers + ", partitions " + partitions);
            }
        }

        /** First row of partition {@code p} ({@code p = partitions} gives n). */
        public long start(int p) {
            return Math.round((double) n * p / partitions);
        }
    }

    /** Writes every partition; returns the rows written. */
    public static long write(ShardStore store, Spec s, IntFunction<String> dirOf) throws IOException {
        long total = 0;
        for (int p = 0; p < s.partitions(); p++) {
            total += writePartition(store, s, p, dirOf.apply(p));
        }
        return total;
    }

    /** Writes partition {@code p} to {@code dir}; returns its rows. */
    public static long writePartition(ShardStore store, Spec s, int p, String dir) throws IOException {
        float[] means = means(s);
        SplittableRandom rnd = new SplittableRandom(s.seed() * 0x9E3779B97F4A7C15L + p + 1);
        long rows = s.start(p + 1) - s.start(p);
        int block = 4096;
        float[] buf = new float[block * s.dim()];
        try (EmbeddingShards.Writer w = new EmbeddingShards.Writer(store, dir, s.dim(), s.rowsPerShard())) {
            for (long r = 0; r < rows; r += block) {
                int len = (int) Math.min(block, rows - r);
                for (int i = 0; i < len; i++) {
                    int c = rnd.nextInt(s.centers());
                    double sq = 0;
                    int o = i * s.dim();
                    for (int j = 0; j < s.dim(); j++) {
                        float v = (float) (means[c * s.dim() + j] + s.noise() * gaussian(rnd));
                        buf[o + j] = v;
                        sq += (double) v * v;
                    }
                    float inv = sq > 0 ? (float) (1 / Math.sqrt(sq)) : 0f;
                    for (int j = 0; j < s.dim(); j++) {
                        buf[o + j] *= inv;
                    }
                }
                w.add(buf, len);
            }
        }
        return rows;
    }

    private static float[] means(Spec s) {
        SplittableRandom rnd = new SplittableRandom(s.seed());
        float[] c = new float[s.centers() * s.dim()];
        for (int i = 0; i < c.length; i++) {
            c[i] = (float) gaussian(rnd);
        }
        return new FloatMatrix(s.centers(), s.dim(), c).normalizedRows().data();
    }

    private static double gaussian(SplittableRandom rnd) {
        double u = 1 - rnd.nextDouble();
        double v = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
