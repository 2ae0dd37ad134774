package dev.dinoj.pipeline.search;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import dev.dinoj.pipeline.compute.SearchKernels;
import java.util.function.IntConsumer;

/**
 * Exact maximum-inner-product search (cosine similarity on unit rows), as Faiss' {@code IndexFlatIP}. The base is held
 * natively; each block of queries is one {@link SearchKernels#knn} call: GEMMs against column blocks of the base, each
 * with a fused top-k selection, the blocks' lists merged natively.
 *
 * <p>{@link Precision#BFLOAT16} runs the GEMMs in bfloat16 (a bfloat16 copy of the base is kept), takes {@code 2k + 8}
 * candidates per query and re-ranks them against the float32 base: the scores are exact float32 inner products and
 * the lists equal the float32 ones except where bfloat16 rounding hides a true neighbour behind more than
 * {@code k + 8} others (recall@10 1.000 on the benchmark's clustered embeddings). {@link Precision#FLOAT32} is the
 * float32 GEMM with the same fused selection.
 *
 * <p>Memory: the base once more natively (plus half that for the bfloat16 copy), and one score block of at most
 * {@code maxBlockBytes}.
 */
public final class FlatIndex implements AutoCloseable {
    /** Default bound of one score block: 256 MiB. */
    public static final long DEFAULT_BLOCK_BYTES = 256L << 20;

    /**
     * Base rows per GEMM at most (a multiple of the largest selection group, 64): score blocks of 16 MiB in bfloat16,
     * small enough for malloc to reuse (no page faults per block), few enough native calls per query block.
     */
    static final int COLUMN_BLOCK = 32_768;

    /** Queries per kernel call at most. */
    static final int QUERY_BLOCK = 256;

    private final FloatMatrix base;
    private final Precision precision;
    private final NDManager manager;
    private final NDArray base32; // [n, d]
    private final NDArray searched; // base32, or its bfloat16 copy padded to a multiple of 64 rows
    private final int colBlock;
    private final long maxBlockBytes;

    /** Indexes {@code base} (rows are the vectors) with the default block size and {@link Precision#auto()}. */
    public FlatIndex(FloatMatrix base) {
        this(base, DEFAULT_BLOCK_BYTES);
    }

    /**
     * @param base          the vectors
     * @param maxBlockBytes bound of one (queries × base block) score matrix
     */
    public FlatIndex(FloatMatrix base, long maxBlockBytes) {
        this(base, maxBlockBytes, Precision.auto());
    }

    /**
     * @param base          the vectors
     * @param maxBlockBytes bound of one (queries × base block) score matrix
     * @param precision     arithmetic of the GEMMs
     */
    public FlatIndex(FloatMatrix base, long maxBlockBytes, Precision precision) {
        this.base = base;
        this.precision = precision;
        this.maxBlockBytes = maxBlockBytes;
        this.manager = NDManager.newBaseManager();
        int n = base.rows();
        int padded = (n + 63) / 64 * 64;
        this.colBlock = Math.max(64, Math.min(COLUMN_BLOCK, padded));
        if (n == 0) {
            base32 = null;
            searched = null;
        } else {
            base32 = base.toNd(manager); // [n, d]
            searched = precision == Precision.BFLOAT16 ? SearchKernels.toBfloat16(base32, padded) : base32;
        }
    }

    public int size() {
        return base.rows();
    }

    public int dim() {
        return base.cols();
    }

    public FloatMatrix base() {
        return base;
    }

    public Precision precision() {
        return precision;
    }

    /** The {@code k} most similar base rows of every query row. */
    public Neighbors search(FloatMatrix queries, int k) {
        return search(queries, k, false, null);
    }

    /**
     * The {@code k} most similar base rows of every query row.
     *
     * @param excludeSelf drop base row {@code i} from query {@code i}'s list (queries are the base itself)
     * @param progress    called with the number of queries done after each query block (may be null)
     */
    public Neighbors search(FloatMatrix queries, int k, boolean excludeSelf, IntConsumer progress) {
        if (queries.cols() != base.cols()) {
            throw new IllegalArgumentException("queries have dim " + queries.cols() + ", the index " + base.cols());
        }
        if (k < 1) {
            throw new IllegalArgumentException("k must be >= 1: " + k);
        }
        int m = queries.rows();
        int n = base.rows();
        Neighbors out = Neighbors.empty(m, k);
        if (m == 0 || n == 0) {
            return out;
        }
        boolean low = precision == Precision.BFLOAT16;
        int kk = excludeSelf ? k + 1 : k;
        int candidates = 2 * kk + 8;
        int scoreBytes = low ? 2 : 4;
        int widest = Math.min(colBlock, low ? (n + 63) / 64 * 64 : n);
        int qBlock = (int) Math.max(1, Math.min(Math.min(m, QUERY_BLOCK), maxBlockBytes / scoreBytes / widest));
        int group = group(widest, low ? Math.min(n, candidates) : Math.min(n, kk));
        int[] ids = out.ids();
        float[] scores = out.scores();
        for (int qs = 0; qs < m; qs += qBlock) {
            int qc = Math.min(qBlock, m - qs);
            float[] vals;
            long[] idx;
            try (NDManager sub = manager.newSubManager()) {
                NDArray q = queries.toNd(sub, qs, qs + qc); // [qc, d]
                NDList top = SearchKernels.knn(q, searched, base32, n, candidates, kk, colBlock, group, low);
                vals = top.get(0).toFloatArray();
                idx = top.get(1).toLongArray();
            }
            int kr = vals.length / qc;
            for (int i = 0; i < qc; i++) {
                int query = qs + i;
                int filled = 0;
                for (int j = 0; j < kr && filled < k; j++) {
                    int id = (int) idx[i * kr + j];
                    if (excludeSelf && id == query) {
                        continue;
                    }
                    ids[query * k + filled] = id;
                    scores[query * k + filled] = vals[i * kr + j];
                    filled++;
                }
            }
            if (progress != null) {
                progress.accept(qs + qc);
            }
        }
        return out;
    }

    /**
     * Selection group count for a score block {@code width} columns wide keeping {@code kc} per row: the largest power
     * of two up to 64 that leaves at least {@code max(64, 4·kc)} groups (1 = plain top-k).
     */
    static int group(int width, int kc) {
        int g = 1;
        while (g < 64 && width % (2 * g) == 0 && width / (2 * g) >= Math.max(64, 4 * kc)) {
            g *= 2;
        }
        return g;
    }

    @Override
    public void close() {
        manager.close();
    }
}
