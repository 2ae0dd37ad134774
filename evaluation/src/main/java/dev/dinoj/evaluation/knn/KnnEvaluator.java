package dev.dinoj.evaluation.knn;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The DINOv2 k-NN classifier evaluation ({@code dinov2/eval/knn.py}, {@code KnnModule}) over precomputed
 * features.
 *
 * <p>Features are L2-normalised, each query's {@code max(k)} most cosine-similar train samples are found, and for
 * every k the classes are scored by the temperature-weighted vote {@code score[c] = Σ_{j<k, label_j=c}
 * softmax(sims / T)_j} (softmax over the {@code max(k)} neighbours). The prediction is the class of highest score;
 * ties go to the lower class index, as {@code argmax} does. Top-5 ranks classes by score the same way; the official
 * {@code torch.topk} leaves the order of equal scores (typically classes with no vote at all) unspecified, so top-5
 * can differ from the official figure only when the true class has the same score as the fifth-ranked one.
 *
 * <p>Similarities are computed one chunk of {@code queryChunkSize} queries against one chunk of {@code
 * trainChunkSize} train samples at a time (matMul and topK on DJL NDArrays); partial top-k lists of several train
 * chunks are merged in order, ties kept in train order. Each query chunk runs in its own sub-manager, so native
 * memory stays bounded by the normalised train matrix plus one chunk of similarities. The vote itself is a few
 * additions per neighbour and runs on the JVM.
 *
 * <p>Instances are immutable and thread-safe; each call opens and closes its own native memory.
 */
public final class KnnEvaluator {

    /** The official default k values ({@code --nb_knn}). */
    public static final int[] DEFAULT_KS = {10, 20, 100, 200};
    /** The official default voting temperature ({@code --temperature}). */
    public static final double DEFAULT_TEMPERATURE = 0.07;
    /** Queries per chunk; the official default batch size. */
    public static final int DEFAULT_QUERY_CHUNK_SIZE = 256;
    /** Eps of {@code nn.functional.normalize}: a zero vector stays zero. */
    static final double NORMALIZE_EPS = 1e-12;

    private final int[] ks;
    private final double temperature;
    private final int queryChunkSize;
    private final int trainChunkSize;
    private final int numClasses;
    private final Device device;

    private KnnEvaluator(Builder b) {
        this.ks = b.ks.clone();
        this.temperature = b.temperature;
        this.queryChunkSize = b.queryChunkSize;
        this.trainChunkSize = b.trainChunkSize;
        this.numClasses = b.numClasses;
        this.device = b.device;
    }

    /** @return a builder with the official defaults */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the k values, ascending and distinct (a copy) */
    public int[] ks() {
        return ks.clone();
    }

    /** @return the voting temperature T */
    public double temperature() {
        return temperature;
    }

    /**
     * Evaluates on the full train set.
     *
     * @param train the labelled train (reference) features
     * @param test the labelled test (query) features, same dimension
     * @return the metrics for every k
     * @throws IllegalArgumentException on mismatched dimensions, labels out of range, non-finite features, or a
     *     k larger than the train set
     */
    public KnnResult evaluate(FeatureSet train, FeatureSet test) {
        int classes = resolveNumClasses(train);
        checkInputs(train, test, classes, ks[ks.length - 1]);
        List<KnnAccuracy> acc = measure(train, test, ks, classes);
        return new KnnResult(temperature, classes, train.n(), test.n(), 0, 1, acc);
    }

    /**
     * Evaluates few-shot: each try keeps {@code fewShot.nPerClass()} train samples per class, the k values are
     * those of {@link FewShot#ks(int[])} (as the official code: the requested ks up to {@code nPerClass}, plus
     * {@code nPerClass}), and every metric is averaged over the tries.
     *
     * @param train the full labelled train features
     * @param test the labelled test features
     * @param fewShot how to subsample the train set; {@code null} for the full set
     * @return the averaged metrics
     */
    public KnnResult evaluate(FeatureSet train, FeatureSet test, FewShot fewShot) {
        if (fewShot == null) {
            return evaluate(train, test);
        }
        int classes = resolveNumClasses(train); // official: from the full train labels
        int[] fewKs = fewShot.ks(ks);
        checkInputs(train, test, classes, 1);
        double[][] sums = new double[fewKs.length][3];
        int nTrain = 0;
        for (int t = 0; t < fewShot.tries(); t++) {
            FeatureSet subset = train.subset(fewShot.select(train.labels(), t));
            nTrain = subset.n();
            checkMaxK(subset, fewKs[fewKs.length - 1]);
            List<KnnAccuracy> acc = measure(subset, test, fewKs, classes);
            for (int i = 0; i < fewKs.length; i++) {
                sums[i][0] += acc.get(i).top1();
                sums[i][1] += acc.get(i).top5();
                sums[i][2] += acc.get(i).meanPerClass();
            }
        }
        List<KnnAccuracy> mean = new ArrayList<>(fewKs.length);
        for (int i = 0; i < fewKs.length; i++) {
            double tries = fewShot.tries();
            mean.add(new KnnAccuracy(fewKs[i], sums[i][0] / tries, sums[i][1] / tries, sums[i][2] / tries));
        }
        return new KnnResult(temperature, classes, nTrain, test.n(), fewShot.nPerClass(), fewShot.tries(), mean);
    }

    /**
     * The predicted class of every query for every k, on the full train set.
     *
     * @param train the labelled train features
     * @param test the query features (labels are only range-checked)
     * @return the predictions
     */
    public KnnPredictions predict(FeatureSet train, FeatureSet test) {
        int classes = resolveNumClasses(train);
        checkInputs(train, test, classes, ks[ks.length - 1]);
        int[][] predicted = new int[ks.length][test.n()];
        vote(train, test, ks, classes, (query, kIndex, scores) -> predicted[kIndex][query] = argmax(scores), null);
        return new KnnPredictions(ks.clone(), predicted);
    }

    // ---------------------------------------------------------------------------------------------- metrics

    private List<KnnAccuracy> measure(FeatureSet train, FeatureSet test, int[] kList, int classes) {
        int[] truth = test.labels();
        long[] top1 = new long[kList.length];
        long[] top5 = new long[kList.length];
        long[][] classCorrect = new long[kList.length][classes];
        boolean withTop5 = classes >= 5;
        vote(
                train,
                test,
                kList,
                classes,
                (query, kIndex, scores) -> {
                    int target = truth[query];
                    if (argmax(scores) == target) {
                        top1[kIndex]++;
                        classCorrect[kIndex][target]++;
                    }
                    if (withTop5 && rank(scores, target) < 5) {
                        top5[kIndex]++;
                    }
                },
                null);

        long[] classTotal = new long[classes];
        for (int label : truth) {
            classTotal[label]++;
        }
        List<KnnAccuracy> out = new ArrayList<>(kList.length);
        double m = test.n();
        for (int i = 0; i < kList.length; i++) {
            double perClassSum = 0;
            int present = 0;
            for (int c = 0; c < classes; c++) {
                if (classTotal[c] > 0) {
                    perClassSum += 100.0 * classCorrect[i][c] / classTotal[c];
                    present++;
                }
            }
            out.add(new KnnAccuracy(
                    kList[i], 100.0 * top1[i] / m, withTop5 ? 100.0 * top5[i] / m : Double.NaN, perClassSum / present));
        }
        return out;
    }

    /** First index of the largest score (torch.argmax). */
    static int argmax(double[] scores) {
        int best = 0;
        for (int c = 1; c < scores.length; c++) {
            if (scores[c] > scores[best]) {
                best = c;
            }
        }
        return best;
    }

    /** Position of {@code target} when classes are ordered by score descending, then by index ascending. */
    static int rank(double[] scores, int target) {
        double s = scores[target];
        int rank = 0;
        for (int c = 0; c < scores.length; c++) {
            if (scores[c] > s || (scores[c] == s && c < target)) {
                rank++;
            }
        }
        return rank;
    }

    // ---------------------------------------------------------------------------------------------- core

    /** Receives the class scores of one query for one k; {@code scores} is reused, read it before returning. */
    @FunctionalInterface
    interface VoteSink {
        void accept(int query, int kIndex, double[] scores);
    }

    /** Test hook: called after each query chunk's sub-manager is closed, with the call's manager. */
    @FunctionalInterface
    interface ChunkObserver {
        void afterChunk(int chunkIndex, NDManager callManager);
    }

    /**
     * Runs the neighbour search and the weighted vote, reporting the scores of every (query, k) to {@code sink}
     * in query order. {@code kList} is ascending and distinct; inputs are already checked.
     */
    void vote(FeatureSet train, FeatureSet test, int[] kList, int classes, VoteSink sink, ChunkObserver observer) {
        int n = train.n();
        int d = train.dim();
        int m = test.n();
        int maxK = kList[kList.length - 1];
        int[] trainLabels = train.labels();

        try (NDManager manager = device == null ? NDManager.newBaseManager() : NDManager.newBaseManager(device)) {
            // ---- train: normalised, transposed, in chunks of trainChunkSize columns: [d, tc] each
            int tc = Math.min(trainChunkSize, n);
            int trainChunks = (n + tc - 1) / tc;
            NDArray[] trainT = new NDArray[trainChunks];
            for (int c = 0; c < trainChunks; c++) {
                int start = c * tc;
                int len = Math.min(tc, n - start);
                try (NDManager tmp = manager.newSubManager()) {
                    NDArray x = tmp.create(
                            Arrays.copyOfRange(train.data(), start * d, (start + len) * d),
                            new Shape(len, d)); // [len, d]
                    NDArray xt = x.normalize(2, 1, NORMALIZE_EPS).transpose(); // [d, len], unit columns
                    xt.attach(manager); // outlives tmp
                    trainT[c] = xt;
                }
            }

            // ---- queries, chunk by chunk
            int qcMax = Math.min(queryChunkSize, m);
            float[] topSims = new float[qcMax * maxK]; // [qc, maxK], descending per query
            int[] topIdx = new int[qcMax * maxK]; // train row of each
            float[] mergeSims = new float[maxK];
            int[] mergeIdx = new int[maxK];
            double[] weights = new double[maxK];
            double[] scores = new double[classes];
            int chunkIndex = 0;
            for (int qs = 0; qs < m; qs += qcMax, chunkIndex++) {
                int qc = Math.min(qcMax, m - qs);
                int have = 0;
                try (NDManager chunk = manager.newSubManager()) {
                    NDArray q = chunk.create(Arrays.copyOfRange(test.data(), qs * d, (qs + qc) * d), new Shape(qc, d))
                            .normalize(2, 1, NORMALIZE_EPS); // [qc, d]
                    for (int c = 0; c < trainChunks; c++) {
                        int len = (int) trainT[c].getShape().get(1);
                        int kc = Math.min(maxK, len);
                        try (NDArray sims = q.matMul(trainT[c]); // [qc, len]
                                NDList top = sims.topK(kc, 1, true, true)) { // 2 × [qc, kc]
                            float[] vals = top.get(0).toFloatArray();
                            long[] idx = top.get(1).toLongArray();
                            have = merge(topSims, topIdx, have, vals, idx, kc, c * tc, qc, maxK, mergeSims, mergeIdx);
                        }
                    }
                }
                if (observer != null) {
                    observer.afterChunk(chunkIndex, manager);
                }

                // ---- weighted vote: softmax(sims / T) over the maxK neighbours, cumulative per class
                for (int i = 0; i < qc; i++) {
                    int row = i * maxK;
                    double best = topSims[row];
                    double sum = 0;
                    for (int j = 0; j < maxK; j++) {
                        weights[j] = Math.exp((topSims[row + j] - best) / temperature);
                        sum += weights[j];
                    }
                    Arrays.fill(scores, 0);
                    int kIndex = 0;
                    for (int j = 0; j < maxK; j++) {
                        scores[trainLabels[topIdx[row + j]]] += weights[j] / sum;
                        while (kIndex < kList.length && kList[kIndex] == j + 1) {
                            sink.accept(qs + i, kIndex++, scores);
                        }
                    }
                }
            }
        }
    }

    /**
     * Merges one train chunk's sorted top-{@code kc} of every query into the running top-{@code maxK}; on equal
     * similarity the running list (earlier train rows) goes first. Returns the new list length.
     */
    private static int merge(
            float[] topSims,
            int[] topIdx,
            int have,
            float[] vals,
            long[] idx,
            int kc,
            int offset,
            int qc,
            int maxK,
            float[] mergeSims,
            int[] mergeIdx) {
        int keep = Math.min(maxK, have + kc);
        for (int i = 0; i < qc; i++) {
            int row = i * maxK;
            int a = 0;
            int b = 0;
            for (int o = 0; o < keep; o++) {
                boolean takeA = b >= kc || (a < have && topSims[row + a] >= vals[i * kc + b]);
                if (takeA) {
                    mergeSims[o] = topSims[row + a];
                    mergeIdx[o] = topIdx[row + a];
                    a++;
                } else {
                    mergeSims[o] = vals[i * kc + b];
                    mergeIdx[o] = offset + (int) idx[i * kc + b];
                    b++;
                }
            }
            System.arraycopy(mergeSims, 0, topSims, row, keep);
            System.arraycopy(mergeIdx, 0, topIdx, row, keep);
        }
        return keep;
    }

    // ---------------------------------------------------------------------------------------------- checks

    private int resolveNumClasses(FeatureSet train) {
        return numClasses > 0 ? numClasses : Math.max(1, train.labelCount());
    }

    private static void checkInputs(FeatureSet train, FeatureSet test, int classes, int maxK) {
        if (train.dim() != test.dim()) {
            throw new IllegalArgumentException("train dim " + train.dim() + " != test dim " + test.dim());
        }
        if (test.n() == 0) {
            throw new IllegalArgumentException("the test set is empty");
        }
        checkMaxK(train, maxK);
        checkLabels("train", train, classes);
        checkLabels("test", test, classes);
        checkFinite("train", train);
        checkFinite("test", test);
    }

    private static void checkMaxK(FeatureSet train, int maxK) {
        if (train.n() < maxK) {
            throw new IllegalArgumentException(
                    "k=" + maxK + " needs at least that many train samples, got " + train.n());
        }
    }

    private static void checkLabels(String which, FeatureSet set, int classes) {
        for (int i = 0; i < set.n(); i++) {
            if (set.labels()[i] >= classes) {
                throw new IllegalArgumentException(
                        which + " label " + set.labels()[i] + " (sample " + i + ") >= numClasses " + classes);
            }
        }
    }

    private static void checkFinite(String which, FeatureSet set) {
        float[] data = set.data();
        for (int i = 0; i < data.length; i++) {
            if (!Float.isFinite(data[i])) {
                throw new IllegalArgumentException(
                        which + " feature of sample " + i / set.dim() + " is not finite: " + data[i]);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- builder

    /** Builder for {@link KnnEvaluator}; every option has the official default. */
    public static final class Builder {
        private int[] ks = DEFAULT_KS.clone();
        private double temperature = DEFAULT_TEMPERATURE;
        private int queryChunkSize = DEFAULT_QUERY_CHUNK_SIZE;
        private int trainChunkSize = Integer.MAX_VALUE;
        private int numClasses;
        private Device device;

        private Builder() {}

        /**
         * Sets the numbers of neighbours to evaluate (default 10, 20, 100, 200).
         *
         * @param ks one or more k values, each {@code >= 1}; duplicates are dropped and the list sorted
         * @return this builder
         */
        public Builder optKs(int... ks) {
            if (ks == null || ks.length == 0) {
                throw new IllegalArgumentException("need at least one k");
            }
            int[] sorted = Arrays.stream(ks).distinct().sorted().toArray();
            if (sorted[0] < 1) {
                throw new IllegalArgumentException("k must be >= 1: " + Arrays.toString(ks));
            }
            this.ks = sorted;
            return this;
        }

        /**
         * Sets the voting temperature T (default 0.07).
         *
         * @param temperature a finite value {@code > 0}
         * @return this builder
         */
        public Builder optTemperature(double temperature) {
            if (!(temperature > 0) || Double.isInfinite(temperature)) {
                throw new IllegalArgumentException("temperature must be finite and > 0: " + temperature);
            }
            this.temperature = temperature;
            return this;
        }

        /**
         * Sets how many queries share one similarity matrix (default 256).
         *
         * @param size {@code >= 1}
         * @return this builder
         */
        public Builder optQueryChunkSize(int size) {
            if (size < 1) {
                throw new IllegalArgumentException("query chunk size must be >= 1: " + size);
            }
            this.queryChunkSize = size;
            return this;
        }

        /**
         * Sets how many train samples one similarity matrix covers (default: all). Smaller chunks bound memory
         * for very large train sets at the cost of merging partial top-k lists.
         *
         * @param size {@code >= 1}
         * @return this builder
         */
        public Builder optTrainChunkSize(int size) {
            if (size < 1) {
                throw new IllegalArgumentException("train chunk size must be >= 1: " + size);
            }
            this.trainChunkSize = size;
            return this;
        }

        /**
         * Sets the number of classes C (default: the largest train label plus one, as the official code).
         *
         * @param numClasses {@code >= 1}
         * @return this builder
         */
        public Builder optNumClasses(int numClasses) {
            if (numClasses < 1) {
                throw new IllegalArgumentException("numClasses must be >= 1: " + numClasses);
            }
            this.numClasses = numClasses;
            return this;
        }

        /**
         * Sets the device the similarities are computed on (default: DJL's default device).
         *
         * @param device the device
         * @return this builder
         */
        public Builder optDevice(Device device) {
            this.device = device;
            return this;
        }

        /** @return the evaluator */
        public KnnEvaluator build() {
            return new KnnEvaluator(this);
        }
    }
}
