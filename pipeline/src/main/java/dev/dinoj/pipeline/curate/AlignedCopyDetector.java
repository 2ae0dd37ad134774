package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.search.FlatIndex;
import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.pipeline.search.IvfIndex;
import dev.dinoj.pipeline.search.Neighbors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Copy detection that survives the edits copy-detection benchmarks make — crops of 75–95 % resized back, horizontal
 * flips, brightness and contrast, noise, padding, JPEG, several at once — on the grey thumbnails of
 * {@link dev.dinoj.pipeline.embed.CopyEmbedder}, in two stages:
 *
 * <ol>
 *   <li><b>Candidates</b>: every image is indexed by 4 low-pass descriptors ({@value #CELLS}×{@value #CELLS} area
 *       averages of the whole thumbnail and of its centre without a padding-sized border, each also mirrored) and
 *       queried with 49 descriptors of crop windows (scales 1, 0.87 and 0.75 per axis, at 1–3 positions), all
 *       centred, whitened with the pool's own descriptor covariance (shrunk) and L2-normalised, so that a cropped,
 *       padded or mirrored copy meets its original as one window meets one indexed view. The best-scoring
 *       {@code candidates} other images of each image become candidate pairs, each with the window and view that
 *       matched as a starting alignment.</li>
 *   <li><b>Verification</b> ({@link CopyAlignment}): the alignment (scale and offset per axis, the mirror fixed) is
 *       refined from each starting point and the pair scored by the normalised cross-correlation of the aligned
 *       thumbnails; pairs at or above {@code threshold} are copies.</li>
 * </ol>
 * Copies are then grouped by connected components as in {@link CopyDetector}. Uniform images (no contrast) are all
 * copies of each other. The work is the descriptor search (49 × 4 descriptor pairs per image pair, one GEMM) plus a
 * refinement per candidate pair; the refinement runs on all cores.
 */
public final class AlignedCopyDetector {
    /** Cells per side of the retrieval descriptors. */
    static final int CELLS = 8;
    /** Crop-window scales per axis. */
    private static final double[] SCALES = {1.0, 0.87, 0.75};
    /** Border of the "padding removed" indexed view, as a fraction of the side (2 px of 32). */
    private static final double PAD = 0.0625;
    /** Weight of the detail correlation in the verification score ({@link CopyAlignment#score}). */
    static final double DETAIL_WEIGHT = 0.5;
    /** Whitening shrinkage: this fraction of the mean variance added to the covariance's diagonal. */
    private static final double SHRINK = 0.1;

    private AlignedCopyDetector() {}

    /**
     * @param candidates       other images per image whose pair is verified
     * @param threshold        correlation of the aligned thumbnails at or above which a pair is a copy
     * @param grid             samples per axis of the verification
     * @param approximateAbove pools larger than this search the descriptors with {@link IvfIndex} (0 = always exact)
     * @param nprobe           lists probed by the approximate index
     */
    public record Settings(int candidates, float threshold, int grid, int approximateAbove, int nprobe) {
        public Settings {
            if (candidates < 1 || !(threshold > -1 && threshold <= 1) || grid < 4 || nprobe < 1) {
                throw new IllegalArgumentException("bad aligned copy-detection settings: candidates " + candidates
                        + ", threshold " + threshold + ", grid " + grid);
            }
        }
    }

    /**
     * Finds the copies among the thumbnails {@code x} (rows of {@link dev.dinoj.pipeline.embed.CopyEmbedder} with
     * {@code side}).
     */
    public static CopyDetector.Result detect(FloatMatrix x, int side, Settings s, IntConsumer progress) {
        int n = x.rows();
        checkSide(x, side);
        if (n == 0) {
            return new CopyDetector.Result(new int[0], new float[0], 0, 0, 0);
        }
        Scored sc = scorePairs(x, side, s);
        List<int[]> edges = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        for (int p = 0; p < sc.keys().length; p++) {
            if (sc.scores()[p] >= s.threshold()) {
                edges.add(new int[] {sc.first(p), sc.second(p)});
                scores.add(sc.scores()[p]);
            }
        }
        boolean[] flat = flat(x, side);
        int lastFlat = -1;
        for (int i = 0; i < n; i++) {
            if (flat[i]) {
                if (lastFlat >= 0) {
                    edges.add(new int[] {lastFlat, i});
                    scores.add(1f);
                }
                lastFlat = i;
            }
        }
        if (progress != null) {
            progress.accept(n);
        }
        int[] ea = edges.stream().mapToInt(e -> e[0]).toArray();
        int[] eb = edges.stream().mapToInt(e -> e[1]).toArray();
        float[] es = new float[scores.size()];
        for (int i = 0; i < es.length; i++) {
            es[i] = scores.get(i);
        }
        return CopyDetector.components(n, ea, eb, es);
    }

    /**
     * The verified candidate pairs of a pool.
     *
     * @param keys   pairs {@code (first << 32) | second}, first &lt; second, sorted
     * @param scores each pair's best correlation after alignment
     */
    record Scored(long[] keys, float[] scores) {
        int first(int p) {
            return (int) (keys[p] >>> 32);
        }

        int second(int p) {
            return (int) keys[p];
        }
    }

    /** Candidate retrieval and verification without the threshold (for calibration). */
    static Scored scorePairs(FloatMatrix x, int side, Settings s) {
        int n = x.rows();
        Descriptors d = Descriptors.of(x, side);
        Whitening w = Whitening.fit(d.views);
        FloatMatrix views = w.apply(d.views);
        FloatMatrix windows = w.apply(d.windows);
        Map<Long, List<Hint>> pairs = new HashMap<>();
        search(
                windows,
                views,
                n,
                s,
                true,
                (qi, dj, h) -> pairs.computeIfAbsent(key(qi, dj), k -> new ArrayList<>(2))
                        .add(h));
        long[] keys =
                pairs.keySet().stream().mapToLong(Long::longValue).sorted().toArray();
        return new Scored(keys, verify(x, side, s.grid(), keys, pairs, flat(x, side)));
    }

    /**
     * For each row of {@code pool}, the best row of {@code refs} that it is a copy of (-1: none) and that pair's score
     * ({@code curate --exclude}). Both are thumbnails of the same {@code side}; the whitening is fitted on both.
     *
     * @return {@code [refOf, score]} as an int array and a float array
     */
    public static Match matchAgainst(FloatMatrix pool, FloatMatrix refs, int side, Settings s) {
        checkSide(pool, side);
        checkSide(refs, side);
        int n = pool.rows();
        int[] refOf = new int[n];
        float[] best = new float[n];
        Arrays.fill(refOf, -1);
        if (n == 0 || refs.rows() == 0) {
            return new Match(refOf, best);
        }
        Descriptors dp = Descriptors.of(pool, side);
        Descriptors dr = Descriptors.of(refs, side);
        Whitening w = Whitening.fit(concat(dp.views, dr.views));
        // pair key (pool, ref); hints with A = first, B = second
        Map<Long, List<Hint>> pairs = new HashMap<>();
        search(
                w.apply(dp.windows),
                w.apply(dr.views),
                n,
                s,
                false,
                (qi, dj, h) -> pairs.computeIfAbsent(((long) qi << 32) | dj, k -> new ArrayList<>(2))
                        .add(h));
        search(
                w.apply(dr.windows),
                w.apply(dp.views),
                refs.rows(),
                s,
                false,
                (qi, dj, h) -> pairs.computeIfAbsent(((long) dj << 32) | qi, k -> new ArrayList<>(2))
                        .add(h.swapped()));
        FloatMatrix both = concat(pool, refs);
        boolean[] flat = flat(both, side);
        long[] keys =
                pairs.keySet().stream().mapToLong(Long::longValue).sorted().toArray();
        long[] joint = new long[keys.length];
        Map<Long, List<Hint>> jointPairs = new HashMap<>();
        for (int p = 0; p < keys.length; p++) {
            long a = keys[p] >>> 32;
            long b = n + (keys[p] & 0xffffffffL);
            joint[p] = (a << 32) | b;
            jointPairs.put(joint[p], pairs.get(keys[p]));
        }
        float[] score = verify(both, side, s.grid(), joint, jointPairs, flat);
        for (int p = 0; p < keys.length; p++) {
            int i = (int) (keys[p] >>> 32);
            if (score[p] >= s.threshold() && score[p] > best[i]) {
                best[i] = score[p];
                refOf[i] = (int) keys[p];
            }
        }
        return new Match(refOf, best);
    }

    /**
     * @param refOf for each pool image, the reference it copies, or -1
     * @param score that pair's verification score (0 without one)
     */
    public record Match(int[] refOf, float[] score) {}

    private static void checkSide(FloatMatrix x, int side) {
        if (x.cols() != side * side) {
            throw new IllegalArgumentException(
                    "copy thumbnails have " + x.cols() + " columns, not " + side + "² (embedded with another side?)");
        }
    }

    private static long key(int a, int b) {
        return a < b ? ((long) a << 32) | b : ((long) b << 32) | a;
    }

    private static FloatMatrix concat(FloatMatrix a, FloatMatrix b) {
        float[] d = Arrays.copyOf(a.data(), a.data().length + b.data().length);
        System.arraycopy(b.data(), 0, d, a.data().length, b.data().length);
        return new FloatMatrix(a.rows() + b.rows(), a.cols(), d);
    }

    /** A starting alignment for the pair: image {@code a} (first of the key unless swapped) holds the window. */
    record Hint(boolean windowInSecond, CopyAlignment.Start start, float score) {
        Hint swapped() {
            return new Hint(!windowInSecond, start, score);
        }
    }

    interface HintSink {
        void accept(int queryImage, int dbImage, Hint h);
    }

    /**
     * Searches the window descriptors of {@code qImages} images against the indexed views and reports, per query
     * image, its best {@code candidates} other images with the best window/view match as a hint ("window in first"
     * relative to the key {@code (query, db)} order; the caller re-keys).
     */
    private static void search(
            FloatMatrix windows, FloatMatrix views, int qImages, Settings s, boolean samePool, HintSink sink) {
        int wPer = windows.rows() / Math.max(1, qImages);
        int kRow = s.candidates() + (samePool ? Descriptors.VIEWS : 0);
        int block = Math.max(1, 4096 / Math.max(1, wPer / 16));
        boolean approximate = s.approximateAbove() > 0 && views.rows() / Descriptors.VIEWS > s.approximateAbove();
        try (FlatIndex flat = approximate ? null : new FlatIndex(views);
                IvfIndex ivf = approximate ? IvfIndex.build(views, 17) : null) {
            for (int q0 = 0; q0 < qImages; q0 += block) {
                int q1 = Math.min(qImages, q0 + block);
                FloatMatrix qs = windows.slice(q0 * wPer, q1 * wPer);
                Neighbors nn = approximate
                        ? ivf.search(qs, kRow, s.nprobe(), false, null)
                        : flat.search(qs, kRow, false, null);
                for (int qi = q0; qi < q1; qi++) {
                    Map<Integer, float[]> bestOf = new HashMap<>();
                    for (int w = 0; w < wPer; w++) {
                        int row = (qi - q0) * wPer + w;
                        for (int r = 0; r < nn.k(); r++) {
                            int id = nn.id(row, r);
                            if (id < 0) {
                                break;
                            }
                            int j = id / Descriptors.VIEWS;
                            if (samePool && j == qi) {
                                continue;
                            }
                            float sc = nn.score(row, r);
                            float[] b = bestOf.get(j);
                            if (b == null || sc > b[0]) {
                                bestOf.put(j, new float[] {sc, w, id % Descriptors.VIEWS});
                            }
                        }
                    }
                    List<Map.Entry<Integer, float[]>> ranked = new ArrayList<>(bestOf.entrySet());
                    ranked.sort((a, b) -> a.getValue()[0] != b.getValue()[0]
                            ? Float.compare(b.getValue()[0], a.getValue()[0])
                            : Integer.compare(a.getKey(), b.getKey()));
                    for (int c = 0; c < Math.min(s.candidates(), ranked.size()); c++) {
                        int j = ranked.get(c).getKey();
                        float[] b = ranked.get(c).getValue();
                        CopyAlignment.Start st = Descriptors.start((int) b[1], (int) b[2]);
                        // the window is in the query image; keys of the same pool put the smaller index first
                        boolean windowInSecond = samePool && qi > j;
                        sink.accept(qi, j, new Hint(windowInSecond, st, b[0]));
                    }
                }
            }
        }
    }

    /** Refines every pair from each of its hints (all cores); the best correlation per pair. */
    private static float[] verify(
            FloatMatrix x, int side, int grid, long[] keys, Map<Long, List<Hint>> pairs, boolean[] flat) {
        float[] data = x.data();
        float[] out = new float[keys.length];
        ThreadLocal<CopyAlignment> align = ThreadLocal.withInitial(() -> new CopyAlignment(side, grid, DETAIL_WEIGHT));
        IntStream.range(0, keys.length).parallel().forEach(p -> {
            int a = (int) (keys[p] >>> 32);
            int b = (int) keys[p];
            if (flat[a] || flat[b]) {
                out[p] = flat[a] && flat[b] ? 1f : 0f;
                return;
            }
            CopyAlignment al = align.get();
            float best = -1;
            for (Hint h : pairs.get(keys[p])) {
                // the window side is the "first" image of the alignment (o = s·u + t maps the other one into it)
                float v = h.windowInSecond() ? al.refine(data, b, a, h.start()) : al.refine(data, a, b, h.start());
                best = Math.max(best, v);
            }
            out[p] = best;
        });
        return out;
    }

    /** Rows that are the uniform image's thumbnail (the first unit vector). */
    private static boolean[] flat(FloatMatrix x, int side) {
        boolean[] f = new boolean[x.rows()];
        int d = side * side;
        for (int i = 0; i < f.length; i++) {
            f[i] = x.data()[i * d] > 0.9999f;
        }
        return f;
    }

    /** The window and view descriptors of every image. */
    static final class Descriptors {
        static final int VIEWS = 4;
        /** Per-axis windows: {scale, offset}. */
        static final double[][] AXIS = axisWindows();

        final FloatMatrix views;
        final FloatMatrix windows;

        private Descriptors(FloatMatrix views, FloatMatrix windows) {
            this.views = views;
            this.windows = windows;
        }

        private static double[][] axisWindows() {
            List<double[]> w = new ArrayList<>();
            for (double sc : SCALES) {
                int positions = sc >= 1 ? 1 : 3;
                for (int p = 0; p < positions; p++) {
                    w.add(new double[] {sc, positions == 1 ? 0 : (1 - sc) * p / (positions - 1)});
                }
            }
            return w.toArray(new double[0][]);
        }

        /** The starting alignment of window {@code w} of the query image against view {@code v} of the other. */
        static CopyAlignment.Start start(int w, int v) {
            double[] wx = AXIS[w % AXIS.length];
            double[] wy = AXIS[w / AXIS.length];
            double c = v % 2 == 1 ? PAD : 0;
            boolean flip = v >= 2;
            double sx = wx[0] / (1 - 2 * c);
            double sy = wy[0] / (1 - 2 * c);
            return new CopyAlignment.Start(
                    (float) sx, (float) (wx[1] - sx * c), (float) sy, (float) (wy[1] - sy * c), flip);
        }

        static Descriptors of(FloatMatrix x, int side) {
            int n = x.rows();
            int m = CELLS * CELLS;
            int na = AXIS.length;
            double[][] axisW = new double[na][];
            for (int a = 0; a < na; a++) {
                axisW[a] = boxWeights(side, AXIS[a][1], AXIS[a][1] + AXIS[a][0]);
            }
            double[] fullW = boxWeights(side, 0, 1);
            double[] padW = boxWeights(side, PAD, 1 - PAD);
            float[] views = new float[n * VIEWS * m];
            float[] windows = new float[n * na * na * m];
            double[][] cols = new double[na][side * CELLS];
            double[] tmp = new double[side * CELLS];
            double[] desc = new double[m];
            for (int i = 0; i < n; i++) {
                int off = i * side * side;
                for (int a = 0; a < na; a++) {
                    rowsTimes(x.data(), off, side, axisW[a], cols[a]);
                }
                for (int wy = 0; wy < na; wy++) {
                    for (int wx = 0; wx < na; wx++) {
                        project(axisW[wy], cols[wx], side, desc);
                        put(desc, windows, ((i * na + wy) * na + wx) * m, false);
                    }
                }
                rowsTimes(x.data(), off, side, fullW, tmp);
                project(fullW, tmp, side, desc);
                put(desc, views, (i * VIEWS) * m, false);
                put(desc, views, (i * VIEWS + 2) * m, true);
                rowsTimes(x.data(), off, side, padW, tmp);
                project(padW, tmp, side, desc);
                put(desc, views, (i * VIEWS + 1) * m, false);
                put(desc, views, (i * VIEWS + 3) * m, true);
            }
            return new Descriptors(new FloatMatrix(n * VIEWS, m, views), new FloatMatrix(n * na * na, m, windows));
        }

        /** out[y][k] = Σ_x img[y][x] · w[k][x]: the window along x, [side, CELLS]. */
        private static void rowsTimes(float[] img, int off, int side, double[] w, double[] out) {
            for (int y = 0; y < side; y++) {
                for (int k = 0; k < CELLS; k++) {
                    double s = 0;
                    for (int xx = 0; xx < side; xx++) {
                        s += img[off + y * side + xx] * w[k * side + xx];
                    }
                    out[y * CELLS + k] = s;
                }
            }
        }

        /** desc[ky][kx] = Σ_y w[ky][y] · cols[y][kx]. */
        private static void project(double[] w, double[] cols, int side, double[] desc) {
            for (int ky = 0; ky < CELLS; ky++) {
                for (int kx = 0; kx < CELLS; kx++) {
                    double s = 0;
                    for (int y = 0; y < side; y++) {
                        s += w[ky * side + y] * cols[y * CELLS + kx];
                    }
                    desc[ky * CELLS + kx] = s;
                }
            }
        }

        /** Centred, L2-normalised (optionally mirrored) copy of {@code desc} into {@code out} at {@code at}. */
        private static void put(double[] desc, float[] out, int at, boolean mirror) {
            double mean = 0;
            for (double v : desc) {
                mean += v;
            }
            mean /= desc.length;
            double norm = 0;
            for (double v : desc) {
                norm += (v - mean) * (v - mean);
            }
            double inv = 1 / Math.max(Math.sqrt(norm), 1e-9);
            for (int ky = 0; ky < CELLS; ky++) {
                for (int kx = 0; kx < CELLS; kx++) {
                    int src = ky * CELLS + (mirror ? CELLS - 1 - kx : kx);
                    out[at + ky * CELLS + kx] = (float) ((desc[src] - mean) * inv);
                }
            }
        }

        /** Area-averaging weights of the interval [lo, hi] (normalised) of {@code side} pixels into CELLS bins. */
        static double[] boxWeights(int side, double lo, double hi) {
            double[] w = new double[CELLS * side];
            double a = lo * side;
            double width = (hi - lo) * side / CELLS;
            for (int k = 0; k < CELLS; k++) {
                double b0 = a + k * width;
                double b1 = b0 + width;
                for (int p = Math.max(0, (int) Math.floor(b0)); p < Math.min(side, (int) Math.ceil(b1)); p++) {
                    double ov = Math.min(b1, p + 1) - Math.max(b0, p);
                    if (ov > 0) {
                        w[k * side + p] = ov / width;
                    }
                }
            }
            return w;
        }
    }

    /** Whitening of the descriptors: {@code L⁻¹ (v − μ)} with {@code L Lᵀ} the shrunk covariance, L2-normalised. */
    static final class Whitening {
        private final double[] mean;
        private final double[] chol;
        private final int d;

        private Whitening(double[] mean, double[] chol, int d) {
            this.mean = mean;
            this.chol = chol;
            this.d = d;
        }

        static Whitening fit(FloatMatrix v) {
            int d = v.cols();
            int n = v.rows();
            double[] mean = new double[d];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < d; j++) {
                    mean[j] += v.data()[i * d + j];
                }
            }
            for (int j = 0; j < d; j++) {
                mean[j] /= Math.max(1, n);
            }
            double[] cov = new double[d * d];
            double[] c = new double[d];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < d; j++) {
                    c[j] = v.data()[i * d + j] - mean[j];
                }
                for (int a = 0; a < d; a++) {
                    double ca = c[a];
                    for (int b = 0; b <= a; b++) {
                        cov[a * d + b] += ca * c[b];
                    }
                }
            }
            double trace = 0;
            for (int a = 0; a < d; a++) {
                for (int b = 0; b <= a; b++) {
                    cov[a * d + b] /= Math.max(1, n - 1);
                }
                trace += cov[a * d + a];
            }
            double ridge = SHRINK * Math.max(trace / d, 1e-12);
            for (int a = 0; a < d; a++) {
                cov[a * d + a] += ridge;
            }
            // Cholesky of the lower triangle, in place
            for (int j = 0; j < d; j++) {
                double s = cov[j * d + j];
                for (int k = 0; k < j; k++) {
                    s -= cov[j * d + k] * cov[j * d + k];
                }
                double ljj = Math.sqrt(Math.max(s, 1e-18));
                cov[j * d + j] = ljj;
                for (int i = j + 1; i < d; i++) {
                    double t = cov[i * d + j];
                    for (int k = 0; k < j; k++) {
                        t -= cov[i * d + k] * cov[j * d + k];
                    }
                    cov[i * d + j] = t / ljj;
                }
            }
            return new Whitening(mean, cov, d);
        }

        FloatMatrix apply(FloatMatrix v) {
            float[] out = new float[v.data().length];
            double[] z = new double[d];
            for (int i = 0; i < v.rows(); i++) {
                double norm = 0;
                for (int a = 0; a < d; a++) {
                    double t = v.data()[i * d + a] - mean[a];
                    for (int k = 0; k < a; k++) {
                        t -= chol[a * d + k] * z[k];
                    }
                    z[a] = t / chol[a * d + a];
                    norm += z[a] * z[a];
                }
                double inv = 1 / Math.max(Math.sqrt(norm), 1e-12);
                for (int a = 0; a < d; a++) {
                    out[i * d + a] = (float) (z[a] * inv);
                }
            }
            return new FloatMatrix(v.rows(), d, out);
        }
    }
}
