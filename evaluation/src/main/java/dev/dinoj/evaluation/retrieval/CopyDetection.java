package dev.dinoj.evaluation.retrieval;

import dev.dinoj.evaluation.features.EvalDataset;
import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.evaluation.transform.DatasetViews;
import dev.dinoj.evaluation.transform.ImageOps;
import dev.dinoj.pipeline.data.RgbImage;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Instance retrieval / copy detection in the spirit of the Copydays evaluation of DINO: every query image has
 * {@code copiesPerQuery} edited copies hidden among {@code distractors} other images of the same dataset; each
 * query ranks the whole database (copies + distractors) by cosine similarity of its features, and the ranking is
 * scored by average precision with the query's own copies as the only positives. Reported: mAP over queries and
 * recall@1 (the top-ranked image is one of the query's copies).
 *
 * <p>Queries are images {@code [0, queries)} of the source and distractors {@code [queries, queries +
 * distractors)}, so no distractor is a query. A copy is the query through a random resized crop (area share in
 * [{@code cropScaleMin}, 1], default 0.8; bilinear) with a horizontal flip half of the time, then one photometric edit drawn among brightness ×[0.6,
 * 1.4], contrast ×[0.4, 0.9], Gaussian noise σ ∈ [0.03, 0.1], Gaussian blur σ ∈ [0.4, 0.9] px and a JPEG round trip
 * at quality [20, 60]; all draws come from a generator seeded by (seed, copy index), so the copies are the same on
 * every run and their features can be cached.
 */
public final class CopyDetection {

    /** The photometric edits a copy may get, in draw order. */
    public static final String[] EDITS = {"brightness", "contrast", "noise", "blur", "jpeg"};

    /**
     * Settings.
     *
     * @param queries query images
     * @param copiesPerQuery edited copies of each query in the database
     * @param distractors other images in the database
     * @param cropScaleMin smallest share of the image area a copy's crop keeps (the largest is 1)
     * @param seed the copies' seed
     */
    public record Settings(int queries, int copiesPerQuery, int distractors, double cropScaleMin, long seed) {

        /**
         * Validates the settings.
         *
         * @param queries query images
         * @param copiesPerQuery copies per query
         * @param distractors distractor images
         * @param cropScaleMin smallest crop area share
         * @param seed seed
         */
        public Settings {
            if (queries < 1 || copiesPerQuery < 1 || distractors < 0) {
                throw new IllegalArgumentException("need queries >= 1, copies >= 1, distractors >= 0");
            }
            if (!(cropScaleMin > 0 && cropScaleMin <= 1)) {
                throw new IllegalArgumentException("crop scale must be in (0, 1]: " + cropScaleMin);
            }
        }

        /** @return 200 queries, 3 copies each, 2000 distractors, crops keeping 80–100 % of the area, seed 0 */
        public static Settings defaults() {
            return new Settings(200, 3, 2000, DEFAULT_CROP_SCALE_MIN, 0);
        }
    }

    /** Default smallest crop: 80 % of the area (89 % of the side); 28-px items lose too much to smaller crops. */
    public static final double DEFAULT_CROP_SCALE_MIN = 0.8;

    /**
     * The three image sets of one evaluation. Labels: a query and its copies carry the query's index; distractor
     * {@code i} carries {@code queries + i} (it is nobody's copy).
     *
     * @param queries the query images
     * @param copies the copies, query-major ({@code copy j} is of query {@code j / copiesPerQuery})
     * @param distractors the distractors
     */
    public record Sets(EvalDataset queries, EvalDataset copies, EvalDataset distractors) {}

    private final Settings settings;

    /** @param settings the settings */
    public CopyDetection(Settings settings) {
        this.settings = settings;
    }

    /** @return the settings */
    public Settings settings() {
        return settings;
    }

    /**
     * Builds the query, copy and distractor sets from a dataset.
     *
     * @param source the dataset (at least {@code queries + distractors} images)
     * @return the sets, with ids that name the protocol and seed (for the feature cache)
     */
    public Sets sets(EvalDataset source) {
        int q = settings.queries();
        int k = settings.copiesPerQuery();
        int d = settings.distractors();
        if (source.size() < q + d) {
            throw new IllegalArgumentException(source.id() + " has " + source.size() + " images; copy detection needs "
                    + q + " queries + " + d + " distractors");
        }
        int[] qi = range(0, q);
        int[] di = range(q, q + d);
        int[] ci = new int[q * k];
        for (int j = 0; j < ci.length; j++) {
            ci[j] = j / k;
        }
        long seed = settings.seed();
        double scale = settings.cropScaleMin();
        EvalDataset queries = source.derive(
                "copydet-queries:" + q,
                DatasetViews.mapped(source.images(), qi, (i, img) -> img, i -> i, "copy-detection queries"));
        EvalDataset copies = source.derive(
                String.format(Locale.ROOT, "copydet-copies:%dx%d:scale=%s:seed=%d:v2", q, k, scale, seed),
                DatasetViews.mapped(
                        source.images(),
                        ci,
                        (j, img) -> copy(img, scale, seed, j),
                        j -> j / k,
                        "copy-detection copies"));
        EvalDataset distractors = source.derive(
                "copydet-distractors:" + q + "+" + d,
                DatasetViews.mapped(source.images(), di, (i, img) -> img, i -> q + i, "copy-detection distractors"));
        return new Sets(queries, copies, distractors);
    }

    /**
     * The edited copy number {@code j}.
     *
     * @param img the query image
     * @param cropScaleMin the smallest crop area share
     * @param seed the protocol seed
     * @param j the copy index
     * @return the copy
     */
    public static RgbImage copy(RgbImage img, double cropScaleMin, long seed, int j) {
        SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + j);
        RgbImage out = ImageOps.randomResizedCrop(img, cropScaleMin, 1.0, rng);
        if (rng.nextDouble() < 0.5) {
            out = ImageOps.flipHorizontal(out);
        }
        switch (rng.nextInt(EDITS.length)) {
            case 0 -> out = ImageOps.brightness(out, 0.6 + 0.8 * rng.nextDouble());
            case 1 -> out = ImageOps.contrast(out, 0.4 + 0.5 * rng.nextDouble());
            case 2 -> out = ImageOps.gaussianNoise(out, 0.03 + 0.07 * rng.nextDouble(), rng);
            case 3 -> out = ImageOps.gaussianBlur(out, 0.4 + 0.5 * rng.nextDouble());
            default -> out = ImageOps.jpeg(out, 20 + rng.nextInt(41));
        }
        return out;
    }

    /**
     * Scores the rankings.
     *
     * @param queries query features (label = query index)
     * @param copies copy features (label = the query it copies)
     * @param distractors distractor features
     * @return mAP and recall@1
     */
    public RetrievalResult evaluate(FeatureSet queries, FeatureSet copies, FeatureSet distractors) {
        int dim = queries.dim();
        if (copies.dim() != dim || distractors.dim() != dim) {
            throw new IllegalArgumentException(
                    "feature dimensions differ: " + dim + ", " + copies.dim() + ", " + distractors.dim());
        }
        int nDb = copies.n() + distractors.n();
        float[][] db = new float[nDb][];
        int[] owner = new int[nDb];
        for (int i = 0; i < copies.n(); i++) {
            db[i] = normalized(copies, i);
            owner[i] = copies.labels()[i];
        }
        for (int i = 0; i < distractors.n(); i++) {
            db[copies.n() + i] = normalized(distractors, i);
            owner[copies.n() + i] = -1;
        }
        double apSum = 0;
        int hits = 0;
        double[] sims = new double[nDb];
        Integer[] order = new Integer[nDb];
        for (int q = 0; q < queries.n(); q++) {
            float[] x = normalized(queries, q);
            int label = queries.labels()[q];
            boolean[] positive = new boolean[nDb];
            for (int i = 0; i < nDb; i++) {
                double s = 0;
                for (int c = 0; c < dim; c++) {
                    s += x[c] * db[i][c];
                }
                sims[i] = s;
                order[i] = i;
                positive[i] = owner[i] == label;
            }
            Arrays.sort(order, (a, b) -> Double.compare(sims[b], sims[a])); // stable: ties keep database order
            int[] ranking = new int[nDb];
            for (int i = 0; i < nDb; i++) {
                ranking[i] = order[i];
            }
            apSum += averagePrecision(ranking, positive);
            if (positive[ranking[0]]) {
                hits++;
            }
        }
        return new RetrievalResult(settings, queries.n(), nDb, 100.0 * apSum / queries.n(), 100.0 * hits / queries.n());
    }

    /**
     * Average precision of one ranking: the mean, over the positives, of the precision at each positive's rank
     * ({@code AP = (1/P) Σ_j j / rank_j}, ranks 1-based); 0 when there are no positives.
     *
     * @param ranking database indices, best first
     * @param positive which database indices are positives
     * @return the AP in [0, 1]
     */
    public static double averagePrecision(int[] ranking, boolean[] positive) {
        int total = 0;
        for (boolean p : positive) {
            if (p) {
                total++;
            }
        }
        if (total == 0) {
            return 0;
        }
        double sum = 0;
        int found = 0;
        for (int r = 0; r < ranking.length && found < total; r++) {
            if (positive[ranking[r]]) {
                found++;
                sum += (double) found / (r + 1);
            }
        }
        return sum / total;
    }

    private static float[] normalized(FeatureSet fs, int row) {
        float[] out = new float[fs.dim()];
        double norm = 0;
        for (int c = 0; c < fs.dim(); c++) {
            float v = fs.data()[row * fs.dim() + c];
            out[c] = v;
            norm += (double) v * v;
        }
        double inv = 1.0 / Math.max(Math.sqrt(norm), 1e-12);
        for (int c = 0; c < out.length; c++) {
            out[c] *= inv;
        }
        return out;
    }

    private static int[] range(int from, int to) {
        int[] out = new int[to - from];
        for (int i = 0; i < out.length; i++) {
            out[i] = from + i;
        }
        return out;
    }
}
