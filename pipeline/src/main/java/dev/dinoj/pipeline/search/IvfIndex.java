package dev.dinoj.pipeline.search;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import dev.dinoj.pipeline.compute.SearchKernels;
import java.util.SplittableRandom;
import java.util.function.IntConsumer;

/**
 * An inverted-file approximate index (Faiss' {@code IndexIVFFlat} idea) for maximum inner product on unit vectors.
 *
 * <p>Build: k-means ({@link KMeans}) on a sample gives {@code nlist} centroids; every base row goes to the list of its
 * nearest centroid; the rows are stored natively, grouped by list. Search: each query's {@code nprobe} best centroids
 * by inner product; then, list by list, the queries probing that list are gathered and scored against the whole list
 * with one GEMM; a long list's top k per query is taken natively, a short one's scores are scanned here (one
 * comparison with the current k-th for most; torch's {@code topk} costs more than the GEMM on short rows, as in a
 * partition's share of a list); either goes into the queries' running top k. Queries are processed in blocks, so
 * memory stays bounded.
 *
 * <p>Recall grows with {@code nprobe}; {@link Neighbors#recallAgainst} measures it against {@link FlatIndex}.
 */
public final class IvfIndex implements AutoCloseable {
    private final int n;
    private final int d;
    private final FloatMatrix centroids;
    private final int[] listStart; // [nlist + 1] offsets into the grouped rows
    private final int[] rowIds; // grouped position → base row id (or the caller's id, ofLists)
    private final NDManager manager;
    private final NDArray grouped; // [n, d] base rows grouped by list
    private final NDArray centroidsT; // [d, nlist]
    private final double buildSeconds;

    /**
     * @param centroids coarse centroids
     * @param listStart list offsets
     * @param rowIds    the id at each grouped position
     * @param grouped   the rows grouped by list
     */
    private IvfIndex(FloatMatrix centroids, int[] listStart, int[] rowIds, FloatMatrix grouped, double buildSeconds) {
        this.n = grouped.rows();
        this.d = grouped.cols();
        this.centroids = centroids;
        this.listStart = listStart;
        this.rowIds = rowIds;
        this.manager = NDManager.newBaseManager();
        this.grouped = grouped.toNd(manager); // [n, d]
        this.centroidsT = centroids.toNd(manager).transpose(); // [d, nlist]
        this.buildSeconds = buildSeconds;
    }

    /**
     * Builds an index.
     *
     * @param base        the vectors (unit rows for cosine)
     * @param nlist       number of lists (≈ 4·√n is a common choice)
     * @param trainSample rows used to train the coarse k-means (at most)
     * @param iterations  k-means iterations
     * @param seed        random seed
     */
    public static IvfIndex build(FloatMatrix base, int nlist, int trainSample, int iterations, long seed) {
        long t0 = System.nanoTime();
        FloatMatrix train = base;
        if (base.rows() > trainSample) {
            train = base.select(KMeans.sampleWithoutReplacement(base.rows(), trainSample, new SplittableRandom(seed)));
        }
        FloatMatrix centroids = coarse(train, Math.min(nlist, base.rows()), iterations, seed);
        int[] assignment = KMeans.assign(base, centroids, 128L << 20).assignment();
        int[] counts = listStarts(assignment, centroids.rows());
        int[] rowIds = byList(assignment, counts);
        return new IvfIndex(centroids, counts, rowIds, base.select(rowIds), (System.nanoTime() - t0) / 1e9);
    }

    /** The coarse quantizer: {@code nlist} (at least 1) centroids of k-means with random init on {@code train}. */
    public static FloatMatrix coarse(FloatMatrix train, int nlist, int iterations, long seed) {
        int lists = Math.max(1, Math.min(nlist, train.rows()));
        return KMeans.fit(train, KMeans.Settings.of(lists, iterations, seed).withInit(KMeans.Init.RANDOM))
                .centroids();
    }

    /** The offsets of {@code lists} lists ({@code lists + 1} values) holding rows assigned to them by list. */
    public static int[] listStarts(int[] assignment, int lists) {
        int[] counts = new int[lists + 1];
        for (int a : assignment) {
            counts[a + 1]++;
        }
        for (int i = 1; i < counts.length; i++) {
            counts[i] += counts[i - 1];
        }
        return counts;
    }

    /** The rows grouped by list (stable: ascending within a list), for offsets {@code starts} of {@link #listStarts}. */
    public static int[] byList(int[] assignment, int[] starts) {
        int[] fill = starts.clone();
        int[] rows = new int[assignment.length];
        for (int i = 0; i < assignment.length; i++) {
            rows[fill[assignment[i]]++] = i;
        }
        return rows;
    }

    /**
     * An index over lists already built (by another process, or a partition of a larger base): {@code grouped}'s rows
     * in list order, list {@code l} at {@code [starts[l], starts[l + 1])}, {@code ids} what a search answers for each
     * (any non-negative ints), {@code centroids} the coarse quantizer they were assigned with.
     */
    public static IvfIndex ofLists(FloatMatrix centroids, int[] starts, int[] ids, FloatMatrix grouped) {
        if (starts.length != centroids.rows() + 1
                || starts[0] != 0
                || starts[centroids.rows()] != grouped.rows()
                || ids.length != grouped.rows()
                || centroids.cols() != grouped.cols()) {
            throw new IllegalArgumentException("inverted lists of " + grouped.rows() + " rows × " + grouped.cols()
                    + " with " + ids.length + " ids, " + starts.length + " offsets and " + centroids.rows() + " × "
                    + centroids.cols() + " centroids");
        }
        return new IvfIndex(centroids, starts, ids, grouped, 0);
    }

    /**
     * The list count used when none is given: √n / 2, between 1 and 4096. Lists are scanned by one GEMM each for all
     * the queries that probe them, so few, long lists (about 2000 vectors at 1M) keep the native calls few and the
     * GEMMs efficient, where Faiss' scalar scans prefer 4·√n to 16·√n lists.
     */
    public static int defaultLists(int n) {
        return (int) Math.max(1, Math.min(4096, Math.round(Math.sqrt(n) / 2)));
    }

    /** Builds with {@link #defaultLists} lists trained on at most 64 rows per list, 10 k-means iterations. */
    public static IvfIndex build(FloatMatrix base, long seed) {
        int lists = defaultLists(base.rows());
        return build(base, lists, Math.min(base.rows(), 64 * lists), 10, seed);
    }

    public int size() {
        return n;
    }

    /** Floats of one block's coarse scores, and of one list's scores for the queries that probe it (expected). */
    static final long BLOCK_FLOATS = 16L << 20;

    /**
     * Queries per block of {@link #search}: as many as keep the coarse scores ({@code block × lists}) and the
     * expected scores of one list ({@code block × probes / lists} queries × the longest list) within {@link
     * #BLOCK_FLOATS}. Every block costs a few native calls per list, so short lists (an index over one partition's
     * share of a pool, {@link #ofLists}) want large blocks.
     */
    static int queryBlock(int lists, int probes, int longest) {
        long byCoarse = BLOCK_FLOATS / Math.max(1, lists);
        long byList = BLOCK_FLOATS * Math.max(1, lists) / ((long) Math.max(1, probes) * Math.max(1, longest));
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, Math.min(byCoarse, byList)));
    }

    private int longestList() {
        int longest = 0;
        for (int l = 0; l + 1 < listStart.length; l++) {
            longest = Math.max(longest, listStart[l + 1] - listStart[l]);
        }
        return longest;
    }

    public int lists() {
        return centroids.rows();
    }

    public double buildSeconds() {
        return buildSeconds;
    }

    /** The k best base rows of each query among the {@code nprobe} lists nearest to it. */
    public Neighbors search(FloatMatrix queries, int k, int nprobe) {
        return search(queries, k, nprobe, false, null);
    }

    /**
     * The k best base rows of each query among its {@code nprobe} nearest lists.
     *
     * @param excludeSelf drop base row {@code i} from query {@code i}'s result (queries are the base)
     * @param progress    called with the number of queries done (may be null)
     */
    public Neighbors search(FloatMatrix queries, int k, int nprobe, boolean excludeSelf, IntConsumer progress) {
        if (queries.cols() != d) {
            throw new IllegalArgumentException("queries have dim " + queries.cols() + ", the index " + d);
        }
        int m = queries.rows();
        int probes = Math.max(1, Math.min(nprobe, lists()));
        Neighbors out = Neighbors.empty(m, k);
        int qBlock = queryBlock(lists(), probes, longestList());
        for (int qs = 0; qs < m; qs += qBlock) {
            int qc = Math.min(qBlock, m - qs);
            try (NDManager sub = manager.newSubManager()) {
                NDArray q = queries.toNd(sub, qs, qs + qc); // [qc, d]
                long[] probe;
                try (NDArray coarse = q.matMul(centroidsT); // [qc, nlist]
                        NDList top = coarse.topK(probes, 1, true, false)) { // [qc, probes]
                    probe = top.get(1).toLongArray();
                }
                // invert: which queries of this block probe each list
                int nl = lists();
                int[] count = new int[nl + 1];
                for (long l : probe) {
                    count[(int) l + 1]++;
                }
                for (int i = 1; i <= nl; i++) {
                    count[i] += count[i - 1];
                }
                int[] fill = count.clone();
                int[] byList = new int[probe.length];
                for (int i = 0; i < probe.length; i++) {
                    byList[fill[(int) probe[i]]++] = i / probes; // query within the block
                }
                for (int l = 0; l < nl; l++) {
                    int qn = count[l + 1] - count[l];
                    int len = listStart[l + 1] - listStart[l];
                    if (qn == 0 || len == 0) {
                        continue;
                    }
                    int[] qIdx = new int[qn];
                    int[] qRows = new int[qn];
                    for (int i = 0; i < qn; i++) {
                        qIdx[i] = byList[count[l] + i];
                        qRows[i] = qs + qIdx[i];
                    }
                    boolean scan = len < NATIVE_TOP_K_FROM;
                    int kb = Math.min(excludeSelf ? k + 1 : k, len);
                    float[] vals;
                    long[] idx = null;
                    try (NDManager lm = sub.newSubManager()) {
                        long[] rows = new long[qn];
                        for (int i = 0; i < qn; i++) {
                            rows[i] = qIdx[i];
                        }
                        // the probing queries' rows in the block against the list: [qn, len]
                        NDArray sims = SearchKernels.scoresList(q, lm.create(rows), grouped, listStart[l], len);
                        if (scan) {
                            vals = sims.toFloatArray();
                        } else {
                            NDList top = sims.topK(kb, 1, true, true); // 2 x [qn, kb]
                            vals = top.get(0).toFloatArray();
                            idx = top.get(1).toLongArray();
                        }
                    }
                    int first = listStart[l];
                    int w = scan ? len : kb;
                    for (int i = 0; i < qn; i++) {
                        int query = qRows[i];
                        for (int j = 0; j < w; j++) {
                            float v = vals[i * w + j];
                            if (v > out.scores()[query * k + k - 1]) {
                                insert(out, query, v, rowIds[first + (scan ? j : (int) idx[i * w + j])], excludeSelf);
                            }
                        }
                    }
                }
            }
            if (progress != null) {
                progress.accept(qs + qc);
            }
        }
        return out;
    }

    /** Lists at least this long take their top k natively (torch's {@code topk}); shorter ones are scanned here. */
    static final int NATIVE_TOP_K_FROM = 512;

    /**
     * Inserts score {@code v} of base row {@code id}, above the current k-th, into query {@code query}'s sorted top k
     * (on ties the earlier entry stays).
     */
    private static void insert(Neighbors out, int query, float v, int id, boolean excludeSelf) {
        if (excludeSelf && id == query) {
            return;
        }
        int k = out.k();
        int[] ids = out.ids();
        float[] scores = out.scores();
        int base = query * k;
        int pos = k - 1;
        while (pos > 0 && scores[base + pos - 1] < v) {
            scores[base + pos] = scores[base + pos - 1];
            ids[base + pos] = ids[base + pos - 1];
            pos--;
        }
        scores[base + pos] = v;
        ids[base + pos] = id;
    }

    @Override
    public void close() {
        manager.close();
    }
}
