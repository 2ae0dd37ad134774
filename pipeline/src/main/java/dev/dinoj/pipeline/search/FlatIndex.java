package dev.dinoj.pipeline.search;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.util.function.IntConsumer;

/**
 * Exact maximum-inner-product search (cosine similarity on unit rows), as Faiss' {@code IndexFlatIP}: the base is
 * held as native row blocks {@code [len, d]}; each block of queries is multiplied with each column block (one
 * GEMM), the block's top-k taken on the native side, and the per-block lists merged on the heap.
 *
 * <p>Memory: the base once more natively, plus one score block of at most {@code maxBlockBytes}.
 */
public final class FlatIndex implements AutoCloseable {
    /** Default bound of one score block: 256 MiB. */
    public static final long DEFAULT_BLOCK_BYTES = 256L << 20;

    private final FloatMatrix base;
    private final NDManager manager;
    private final NDArray[] columns; // [len, d] row blocks of the base
    private final int[] columnStart;
    private final long maxBlockBytes;

    /** Indexes {@code base} (rows are the vectors) with the default block size. */
    public FlatIndex(FloatMatrix base) {
        this(base, DEFAULT_BLOCK_BYTES);
    }

    /**
     * @param base          the vectors
     * @param maxBlockBytes bound of one (queries × base block) score matrix
     */
    public FlatIndex(FloatMatrix base, long maxBlockBytes) {
        this.base = base;
        this.maxBlockBytes = maxBlockBytes;
        this.manager = NDManager.newBaseManager();
        int n = base.rows();
        int colBlock = Math.max(1, Math.min(n, 65_536));
        int blocks = n == 0 ? 0 : (n + colBlock - 1) / colBlock;
        columns = new NDArray[blocks];
        columnStart = new int[blocks + 1];
        for (int b = 0; b < blocks; b++) {
            int from = b * colBlock;
            int to = Math.min(n, from + colBlock);
            columnStart[b] = from;
            columns[b] = base.toNd(manager, from, to); // [len, d]
        }
        columnStart[blocks] = n;
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
        Neighbors out = Neighbors.empty(m, k);
        if (m == 0 || base.rows() == 0) {
            return out;
        }
        int kk = excludeSelf ? k + 1 : k;
        int widest = columnStart.length > 1 ? columnStart[1] - columnStart[0] : 1;
        int qBlock = (int) Math.max(1, Math.min(m, maxBlockBytes / 4 / widest));
        int[] tmpIds = new int[k];
        float[] tmpScores = new float[k];
        float[] candScores = new float[kk];
        int[] candIds = new int[kk];
        for (int qs = 0; qs < m; qs += qBlock) {
            int qc = Math.min(qBlock, m - qs);
            try (NDManager sub = manager.newSubManager()) {
                NDArray q = queries.toNd(sub, qs, qs + qc); // [qc, d]
                for (int b = 0; b < columns.length; b++) {
                    int len = columnStart[b + 1] - columnStart[b];
                    int kb = Math.min(kk, len);
                    float[] vals;
                    long[] idx;
                    try (NDArray t = columns[b].transpose(); // [d, len] view
                            NDArray sims = q.matMul(t); // [qc, len]
                            NDList top = sims.topK(kb, 1, true, true)) { // 2 x [qc, kb]
                        vals = top.get(0).toFloatArray();
                        idx = top.get(1).toLongArray();
                    }
                    for (int i = 0; i < qc; i++) {
                        int n = 0;
                        for (int j = 0; j < kb; j++) {
                            int id = (int) idx[i * kb + j] + columnStart[b];
                            if (excludeSelf && id == qs + i) {
                                continue;
                            }
                            if (n < k) {
                                candIds[n] = id;
                                candScores[n] = vals[i * kb + j];
                                n++;
                            }
                        }
                        Neighbors.TopK.merge(out, qs + i, candScores, candIds, 0, n, tmpIds, tmpScores);
                    }
                }
            }
            if (progress != null) {
                progress.accept(qs + qc);
            }
        }
        return out;
    }

    @Override
    public void close() {
        manager.close();
    }
}
