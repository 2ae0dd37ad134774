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
 *   <li><b>Candidates</b> ({@link CopyDescriptors}): every image is indexed by 4 low-pass views (the whole thumbnail and
 *       its centre without a padding-sized border, each also mirrored) and queried with 49 crop-window descriptors
 *       (scales 1, 0.87 and 0.75 per axis, at 1–3 positions), whitened with the pool's own descriptor covariance
 *       ({@link CopyWhitening}) and L2-normalised, so that a cropped, padded or mirrored copy meets its original as
 *       one window meets one indexed view. The best-scoring {@code candidates} other images of each image become
 *       candidate pairs, each with the window and view that matched as a starting alignment.</li>
 *   <li><b>Verification</b> ({@link CopyVerifier}): from each starting alignment, in both directions (either image
 *       may be the crop), the scale and offset per axis are refined by Gauss-Newton with gain and bias solved in
 *       closed form, coarse to fine, and the pair is scored by {@code 1 − rms(residual) / std}; pairs at or above
 *       {@code threshold} are copies.</li>
 * </ol>
 * Copies are then grouped by connected components as in {@link CopyDetector}. Uniform images (no contrast) are all
 * copies of each other. The work is the descriptor search (49 × 4 descriptor pairs per image pair, one GEMM) plus a
 * refinement per candidate pair; the refinement runs on all cores.
 */
public final class AlignedCopyDetector {
    private AlignedCopyDetector() {}

    /**
     * The verification score at or above which {@link AlignedCopyMatch#matchAgainst} takes a pool image for a copy of a reference image
     * ({@code curate --exclude}), calibrated on generated copies of Fashion-MNIST (seed 1; docs/CURATION.md,
     * "Realistic copies"). Within a pool, {@link #detect} uses {@link #NORMALISED_THRESHOLD}.
     */
    public static final float THRESHOLD = 0.963f;

    /**
     * The {@link #normalised} score at or above which {@link #detect} makes a pair a copy, calibrated on generated
     * pools (docs/CURATION.md, "Realistic copies"): at most 0.6 % of originals wrongly dropped on the calibration pools.
     */
    public static final float NORMALISED_THRESHOLD = 0.4956f;

    /**
     * A verification score at or above which a pair is a copy whatever its background: above every false pair of the
     * generated pools (they reach 0.974), and what keeps a large group of near-exact copies together.
     */
    public static final float SURE = 0.985f;

    /**
     * The verification score a pair needs besides its normalised score: in a small or sparse pool the backgrounds are
     * low (an image with few candidates, or candidates that are all unrelated), and the normalised score alone would
     * join images that merely share a layout. Costs at most 0.013 of the pairs caught on the generated pools.
     */
    public static final float MIN_SCORE = 0.88f;

    /** Which of an image's verified candidate scores is its background (0-based, best first). */
    static final int BACKGROUND_RANK = 3;

    /** Passes of {@link #detect} at most (a group's members leave each other's background pass by pass). */
    static final int MAX_PASSES = 8;

    /** Weight of the background in the normalised score. */
    static final float BACKGROUND_WEIGHT = 0.5f;

    /**
     * @param candidates       other images per image whose pair is verified
     * @param threshold        verification score ({@link CopyVerifier}) at or above which a pair is a copy
     * @param approximateAbove pools larger than this search the descriptors with {@link IvfIndex} (0 = always exact)
     * @param nprobe           lists probed by the approximate index
     */
    public record Settings(int candidates, float threshold, int approximateAbove, int nprobe) {
        public Settings {
            if (candidates < 1 || !(threshold > -1 && threshold <= 1) || nprobe < 1) {
                throw new IllegalArgumentException("bad aligned copy-detection settings: candidates " + candidates
                        + ", threshold " + threshold + ", nprobe " + nprobe);
            }
        }
    }

    /**
     * Finds the copies among the thumbnails {@code x} (rows of {@link dev.dinoj.pipeline.embed.CopyEmbedder} with
     * {@code side}): a pair is a copy when its {@link #normalised} score reaches {@code s.threshold()}
     * ({@link #NORMALISED_THRESHOLD} calibrated) with a verification score of at least {@link #MIN_SCORE}, or its
     * verification score reaches {@link #SURE}.
     */
    public static CopyDetector.Result detect(FloatMatrix x, int side, Settings s, IntConsumer progress) {
        int n = x.rows();
        checkSide(x, side);
        if (n == 0) {
            return new CopyDetector.Result(new int[0], new float[0], 0, 0, 0);
        }
        CopyDetector.Result r = decide(n, scorePairs(x, side, s), flat(x, side), s.threshold());
        if (progress != null) {
            progress.accept(n);
        }
        return r;
    }

    /**
     * The copy components of {@code n} images from their verified candidate pairs {@code sc} and which images are
     * uniform ({@code flat}): the passes of {@link #normalised} scores, thresholds as {@link #detect}.
     */
    static CopyDetector.Result decide(int n, Scored sc, boolean[] flat, float threshold) {
        if (n == 0) {
            return new CopyDetector.Result(new int[0], new float[0], 0, 0, 0);
        }
        // the first pass takes every candidate as background; each further pass leaves out the partners already
        // found to be copies, so that a group of several copies of one image does not mask itself. Components only
        // grow from pass to pass (a smaller background, more edges); stop when they no longer do
        CopyDetector.Result r = components(n, sc, normalised(n, sc, null), threshold, flat);
        for (int pass = 1; pass < MAX_PASSES; pass++) {
            CopyDetector.Result next = components(n, sc, normalised(n, sc, r.representative()), threshold, flat);
            boolean grew = next.duplicates() != r.duplicates();
            r = next;
            if (!grew) {
                break;
            }
        }
        return r;
    }

    /**
     * Score normalisation as in copy-detection benchmarks (DISC21; SSCD's "score normalization"): a pair's verification
     * score minus {@link #BACKGROUND_WEIGHT} times the larger background of its two images, an image's background
     * being its {@link #BACKGROUND_RANK}-th best verified score (0-based) among its candidates. Fashion items and
     * photos of one kind have many look-alikes that score nearly as high as a heavily edited copy; a copy stands out
     * of its original's neighbourhood, a look-alike does not.
     *
     * @param component each image's copy component from an earlier pass, or null: for pair (a, b), the members of a's
     *                  and b's components other than a and b themselves are not background (a group of copies of one
     *                  image is not the background of a further copy of it)
     */
    static float[] normalised(int n, Scored sc, int[] component) {
        int pairs = sc.keys().length;
        int[] start = new int[n + 1];
        for (int p = 0; p < pairs; p++) {
            start[sc.first(p) + 1]++;
            start[sc.second(p) + 1]++;
        }
        for (int i = 0; i < n; i++) {
            start[i + 1] += start[i];
        }
        // each image's partners, best score first
        long[] partners = new long[2 * pairs];
        int[] fill = Arrays.copyOf(start, n);
        for (int p = 0; p < pairs; p++) {
            int a = sc.first(p);
            int b = sc.second(p);
            long bits = (long) (~Float.floatToIntBits(Math.max(-1f, sc.scores()[p]) + 2f)) << 32;
            partners[fill[a]++] = bits | b;
            partners[fill[b]++] = bits | a;
        }
        for (int i = 0; i < n; i++) {
            Arrays.sort(partners, start[i], start[i + 1]); // ascending in ~bits of a positive float: best first
        }
        float[] out = new float[pairs];
        for (int p = 0; p < pairs; p++) {
            int a = sc.first(p);
            int b = sc.second(p);
            float bg = Math.max(
                    background(partners, start[a], start[a + 1], b, component, a, b),
                    background(partners, start[b], start[b + 1], a, component, a, b));
            out[p] = sc.scores()[p] - BACKGROUND_WEIGHT * bg;
        }
        return out;
    }

    /**
     * The {@link #BACKGROUND_RANK}-th best score of one image's partners (sorted, best first), skipping the members of
     * the pair's two components other than the pair's own {@code other} end; the last one when there are fewer, 0 when
     * none.
     */
    private static float background(long[] partners, int from, int to, int other, int[] component, int a, int b) {
        int rank = 0;
        float last = 0;
        for (int q = from; q < to; q++) {
            int j = (int) partners[q];
            if (component != null && j != other && (component[j] == component[a] || component[j] == component[b])) {
                continue;
            }
            last = Float.intBitsToFloat(~(int) (partners[q] >>> 32)) - 2f;
            if (rank++ == BACKGROUND_RANK) {
                return last;
            }
        }
        return last;
    }

    /** The copy components of the pairs at or above the thresholds, the uniform images joined. */
    private static CopyDetector.Result components(
            int n, Scored sc, float[] normalised, float threshold, boolean[] flat) {
        List<int[]> edges = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        for (int p = 0; p < sc.keys().length; p++) {
            if ((normalised[p] >= threshold && sc.scores()[p] >= MIN_SCORE) || sc.scores()[p] >= SURE) {
                edges.add(new int[] {sc.first(p), sc.second(p)});
                scores.add(sc.scores()[p]);
            }
        }
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
     * @param scores each pair's best verification score
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
        FloatMatrix raw = CopyDescriptors.views(x, side);
        CopyWhitening w = CopyWhitening.fit(raw);
        FloatMatrix views = w.apply(raw);
        Map<Long, List<Hint>> pairs = new HashMap<>();
        search(
                (from, to) -> w.apply(CopyDescriptors.windows(x, side, from, to)),
                views,
                n,
                s,
                true,
                (qi, dj, h) -> pairs.computeIfAbsent(key(qi, dj), k -> new ArrayList<>(2))
                        .add(h));
        long[] keys =
                pairs.keySet().stream().mapToLong(Long::longValue).sorted().toArray();
        return new Scored(keys, verify(x.data(), side, keys, pairs, i -> i, flat(x, side)));
    }

    static void checkSide(FloatMatrix x, int side) {
        if (x.cols() != side * side) {
            throw new IllegalArgumentException(
                    "copy thumbnails have " + x.cols() + " columns, not " + side + "² (embedded with another side?)");
        }
    }

    static long key(int a, int b) {
        return a < b ? ((long) a << 32) | b : ((long) b << 32) | a;
    }

    static FloatMatrix concat(FloatMatrix a, FloatMatrix b) {
        float[] d = Arrays.copyOf(a.data(), a.data().length + b.data().length);
        System.arraycopy(b.data(), 0, d, a.data().length, b.data().length);
        return new FloatMatrix(a.rows() + b.rows(), a.cols(), d);
    }

    /** A starting alignment for the pair: image {@code a} (first of the key unless swapped) holds the window. */
    record Hint(boolean windowInSecond, CopyVerifier.Start start, float score) {
        Hint swapped() {
            return new Hint(!windowInSecond, start, score);
        }
    }

    /** The whitened window descriptors of a block of query images. */
    interface Windows {
        FloatMatrix of(int from, int to);
    }

    interface HintSink {
        void accept(int queryImage, int dbImage, Hint h);
    }

    /** The {@code k} best indexed views of each query descriptor (ids: image · {@code VIEWS} + view). */
    interface ViewSearch {
        Neighbors search(FloatMatrix queries, int k);
    }

    /** Query images per block of window descriptors (about 4096 descriptors). */
    static final int QUERY_BLOCK = Math.max(1, 4096 / Math.max(1, CopyDescriptors.WINDOWS / 16));

    /**
     * Searches the window descriptors of {@code qImages} images against the indexed views and reports, per query
     * image, its best {@code candidates} other images with the best window/view match as a hint ("window in first"
     * relative to the key {@code (query, db)} order; the caller re-keys).
     */
    static void search(Windows windows, FloatMatrix views, int qImages, Settings s, boolean samePool, HintSink sink) {
        boolean approximate = s.approximateAbove() > 0 && views.rows() / CopyDescriptors.VIEWS > s.approximateAbove();
        try (FlatIndex flat = approximate ? null : new FlatIndex(views);
                IvfIndex ivf = approximate ? IvfIndex.build(views, 17) : null) {
            searchBlocks(
                    windows,
                    (qs, k) ->
                            approximate ? ivf.search(qs, k, s.nprobe(), false, null) : flat.search(qs, k, false, null),
                    qImages,
                    0,
                    QUERY_BLOCK,
                    s.candidates(),
                    samePool,
                    sink);
        }
    }

    /**
     * {@link #search} through {@code views}, {@code blockImages} query images at a time, the query images numbered from
     * {@code qBase} in the pool (with {@code samePool}, the indexed images are the same pool, numbered from 0, and a
     * query image is not its own candidate).
     */
    static void searchBlocks(
            Windows windows,
            ViewSearch views,
            int qImages,
            int qBase,
            int blockImages,
            int candidates,
            boolean samePool,
            HintSink sink) {
        int wPer = CopyDescriptors.WINDOWS;
        int kRow = candidates + (samePool ? CopyDescriptors.VIEWS : 0);
        for (int q0 = 0; q0 < qImages; q0 += blockImages) {
            int q1 = Math.min(qImages, q0 + blockImages);
            FloatMatrix qs = windows.of(q0, q1);
            Neighbors nn = views.search(qs, kRow);
            for (int qi = q0; qi < q1; qi++) {
                int self = qBase + qi;
                Map<Integer, float[]> bestOf = new HashMap<>();
                for (int w = 0; w < wPer; w++) {
                    int row = (qi - q0) * wPer + w;
                    for (int r = 0; r < nn.k(); r++) {
                        int id = nn.id(row, r);
                        if (id < 0) {
                            break;
                        }
                        int j = id / CopyDescriptors.VIEWS;
                        if (samePool && j == self) {
                            continue;
                        }
                        float sc = nn.score(row, r);
                        float[] b = bestOf.get(j);
                        if (b == null || sc > b[0]) {
                            bestOf.put(j, new float[] {sc, w, id % CopyDescriptors.VIEWS});
                        }
                    }
                }
                List<Map.Entry<Integer, float[]>> ranked = new ArrayList<>(bestOf.entrySet());
                ranked.sort((a, b) -> a.getValue()[0] != b.getValue()[0]
                        ? Float.compare(b.getValue()[0], a.getValue()[0])
                        : Integer.compare(a.getKey(), b.getKey()));
                for (int c = 0; c < Math.min(candidates, ranked.size()); c++) {
                    int j = ranked.get(c).getKey();
                    float[] b = ranked.get(c).getValue();
                    CopyVerifier.Start st = CopyDescriptors.start((int) b[1], (int) b[2]);
                    // the window is in the query image; keys of the same pool put the smaller index first
                    boolean windowInSecond = samePool && self > j;
                    sink.accept(self, j, new Hint(windowInSecond, st, b[0]));
                }
            }
        }
    }

    /**
     * Verifies every pair from each of its hints, both directions (all cores); the best score per pair. The images of
     * the keys are rows {@code row.applyAsInt(image)} of {@code data}, uniform where {@code flat} (by row) says so.
     */
    static float[] verify(
            float[] data,
            int side,
            long[] keys,
            Map<Long, List<Hint>> pairs,
            java.util.function.IntUnaryOperator row,
            boolean[] flat) {
        float[] out = new float[keys.length];
        ThreadLocal<CopyVerifier> align = ThreadLocal.withInitial(() -> new CopyVerifier(side));
        IntStream.range(0, keys.length).parallel().forEach(p -> {
            int a = row.applyAsInt((int) (keys[p] >>> 32));
            int b = row.applyAsInt((int) keys[p]);
            if (flat[a] || flat[b]) {
                out[p] = flat[a] && flat[b] ? 1f : 0f;
                return;
            }
            CopyVerifier al = align.get();
            float best = -1;
            for (Hint h : pairs.get(keys[p])) {
                // the window side is A (o = s·u + t maps the other one's coordinates into it)
                int wa = h.windowInSecond() ? b : a;
                int wb = h.windowInSecond() ? a : b;
                best = Math.max(best, al.verify(data, wa, wb, h.start()));
                best = Math.max(best, al.verify(data, wb, wa, CopyVerifier.inverse(h.start())));
            }
            out[p] = best;
        });
        return out;
    }

    /** Rows that are the uniform image's thumbnail (the first unit vector). */
    static boolean[] flat(FloatMatrix x, int side) {
        boolean[] f = new boolean[x.rows()];
        int d = side * side;
        for (int i = 0; i < f.length; i++) {
            f[i] = x.data()[i * d] > 0.9999f;
        }
        return f;
    }
}
