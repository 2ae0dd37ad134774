package dev.dinoj.evaluation.linear;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;
import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.evaluation.metrics.Accuracy;
import dev.dinoj.evaluation.metrics.HoldOut;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.LongConsumer;

/**
 * The DINOv2 linear probe ({@code dinov2/eval/linear.py}) on precomputed frozen features.
 *
 * <p>As the official code: one linear classifier per (input, learning rate), the inputs being the CLS tokens of the
 * last 1 or 4 blocks with or without the average-pooled patch tokens ({@link HeadInput#lastBlocks}); weights
 * {@code N(0, 0.01)}, bias 0; the loss is the sum of every head's cross-entropy, so all heads train in one pass
 * over the same batches; SGD with momentum 0.9, no weight decay, each head's learning rate
 * {@code lr · batch / 256} annealed by a cosine to 0 over all iterations ({@code CosineAnnealingLR}); batches drawn
 * without replacement, {@code drop_last}. The head with the best top-1 on the held-out part of the training set is
 * reported on the test set.
 *
 * <p>Where it departs, and why: the official probe trains on augmented images (random resized crop + flip) through
 * the frozen backbone; this one trains on the cached features of the un-augmented images, so a probe costs
 * seconds instead of a backbone pass per step. The official picks the head on its "val" set (the ImageNet
 * validation set, i.e. the reported one); here it is picked on a held-out {@code valFraction} of train, as the
 * issue asks, and the test set is only used for the chosen head. The training length is given in passes over the
 * features ({@code epochs}) instead of {@code epochs × epoch_length} iterations.
 *
 * <p>The update is written out rather than taken from autograd: for a head with logits {@code z = xW + b} and
 * softmax {@code p}, {@code ∂CE/∂z = (p − onehot(y)) / B}, so {@code ∂W = xᵀ(p − y)/B} and {@code ∂b = Σ(p − y)/B};
 * the heads of one input share one GEMM ({@code W} is {@code in × (L·C)} for L learning rates).
 */
public final class LinearProbe {

    /** The official learning-rate grid ({@code --learning-rates}). */
    public static final double[] OFFICIAL_LEARNING_RATES = {
        1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1
    };

    /**
     * Probe settings.
     *
     * @param learningRates base learning rates (scaled by {@code batchSize / 256})
     * @param epochs passes over the training features
     * @param batchSize samples per SGD step
     * @param valFraction share of the training features held out to choose the head
     * @param seed initialisation, split and batch-order seed
     * @param numClasses the number of classes, or 0 for {@code max(train label) + 1}
     */
    public record Settings(
            double[] learningRates, int epochs, int batchSize, double valFraction, long seed, int numClasses) {

        /**
         * Validates the settings.
         *
         * @param learningRates base learning rates
         * @param epochs passes
         * @param batchSize batch size
         * @param valFraction held-out share
         * @param seed seed
         * @param numClasses classes or 0
         */
        public Settings {
            if (learningRates == null || learningRates.length == 0) {
                throw new IllegalArgumentException("need at least one learning rate");
            }
            for (double lr : learningRates) {
                if (!(lr > 0) || Double.isInfinite(lr)) {
                    throw new IllegalArgumentException(
                            "learning rates must be finite and > 0: " + Arrays.toString(learningRates));
                }
            }
            learningRates = learningRates.clone();
            if (epochs < 1 || batchSize < 1) {
                throw new IllegalArgumentException("epochs and batch size must be >= 1");
            }
            if (!(valFraction > 0 && valFraction < 1)) {
                throw new IllegalArgumentException("val fraction must be in (0, 1): " + valFraction);
            }
        }

        /** @return the official grid, 10 epochs, batch 128, 10 % held out, seed 0 */
        public static Settings defaults() {
            return new Settings(OFFICIAL_LEARNING_RATES, 10, 128, 0.1, 0, 0);
        }

        @Override
        public double[] learningRates() {
            return learningRates.clone();
        }

        /**
         * A copy with other epochs.
         *
         * @param e passes over the features
         * @return the settings
         */
        public Settings withEpochs(int e) {
            return new Settings(learningRates, e, batchSize, valFraction, seed, numClasses);
        }
    }

    private final Settings settings;
    private final LongConsumer progress;

    /**
     * @param settings the settings
     * @param progress told the iteration after each step (may be null)
     */
    public LinearProbe(Settings settings, LongConsumer progress) {
        this.settings = settings;
        this.progress = progress;
    }

    /**
     * Holds out part of {@code train}, trains every head on the rest, picks the best on the held-out part and
     * reports it on {@code test}.
     *
     * @param train labelled training features
     * @param test labelled test features (same columns)
     * @param inputs the slices the head groups read
     * @return the result
     */
    public LinearProbeResult run(FeatureSet train, FeatureSet test, List<HeadInput> inputs) {
        if (train.dim() != test.dim()) {
            throw new IllegalArgumentException("train dim " + train.dim() + " != test dim " + test.dim());
        }
        int classes = settings.numClasses() > 0 ? settings.numClasses() : train.labelCount();
        HoldOut split = HoldOut.of(train.n(), settings.valFraction(), settings.seed());
        FeatureSet tr = train.subset(split.train());
        FeatureSet val = train.subset(split.heldOut());
        List<LinearHead> heads = train(tr, inputs, classes);

        List<LinearProbeResult.HeadScore> scores = new ArrayList<>(heads.size());
        int best = -1;
        double bestTop1 = -1;
        for (int h = 0; h < heads.size(); h++) {
            LinearHead head = heads.get(h);
            double top1 = Accuracy.of(head.scores(val), classes, val.labels()).top1();
            scores.add(new LinearProbeResult.HeadScore(head.name(), head.input(), head.lr(), top1));
            if (top1 > bestTop1) { // first of equal heads wins, as the official strict '>'
                bestTop1 = top1;
                best = h;
            }
        }
        LinearHead bestHead = heads.get(best);
        Accuracy testAcc = Accuracy.of(bestHead.scores(test), classes, test.labels());

        // per input: its best learning rate on val, and that head on test (the "CLS" / "CLS + avgpool" rows)
        List<LinearProbeResult.InputScore> byInput = new ArrayList<>();
        int lrs = settings.learningRates().length;
        for (int g = 0; g < inputs.size(); g++) {
            int bi = g * lrs;
            for (int l = 1; l < lrs; l++) {
                if (scores.get(g * lrs + l).valTop1() > scores.get(bi).valTop1()) {
                    bi = g * lrs + l;
                }
            }
            LinearHead h = heads.get(bi);
            byInput.add(new LinearProbeResult.InputScore(
                    inputs.get(g),
                    h.name(),
                    h.lr(),
                    scores.get(bi).valTop1(),
                    Accuracy.of(h.scores(test), classes, test.labels())));
        }
        return new LinearProbeResult(
                settings, classes, tr.n(), val.n(), test.n(), scores, bestHead, bestTop1, testAcc, byInput);
    }

    /**
     * Trains every (input, learning rate) head on {@code train} in one pass, as {@code AllClassifiers}.
     *
     * @param train labelled features
     * @param inputs the head groups
     * @param classes the number of classes
     * @return the heads, grouped by input in the given order, learning rates in the given order within a group
     */
    public List<LinearHead> train(FeatureSet train, List<HeadInput> inputs, int classes) {
        return train(
                train,
                inputs,
                classes,
                initialWeights(inputs, settings.learningRates().length, classes, settings.seed()));
    }

    /**
     * The official initialisation, {@code weight ~ N(0, 0.01)}: one array per input, {@code in × (L·C)} row-major,
     * column {@code l·C + c} being head {@code l}'s weight for class {@code c}.
     */
    static float[][] initialWeights(List<HeadInput> inputs, int nLr, int classes, long seed) {
        SplittableRandom init = new SplittableRandom(seed ^ 0x5DEECE66DL);
        float[][] out = new float[inputs.size()][];
        for (int g = 0; g < inputs.size(); g++) {
            float[] w0 = new float[inputs.get(g).length() * nLr * classes];
            for (int i = 0; i < w0.length; i++) {
                w0[i] = (float) (0.01 * init.nextGaussian());
            }
            out[g] = w0;
        }
        return out;
    }

    /** {@link #train(FeatureSet, List, int)} from given initial weights (see {@link #initialWeights}). */
    List<LinearHead> train(FeatureSet train, List<HeadInput> inputs, int classes, float[][] initial) {
        for (HeadInput in : inputs) {
            if (in.offset() + in.length() > train.dim()) {
                throw new IllegalArgumentException(
                        "head input " + in + " exceeds the " + train.dim() + " feature columns");
            }
        }
        for (int y : train.labels()) {
            if (y >= classes) {
                throw new IllegalArgumentException("label " + y + " >= classes " + classes);
            }
        }
        double[] lrs = settings.learningRates();
        int nLr = lrs.length;
        int n = train.n();
        int batch = Math.min(settings.batchSize(), n);
        int perEpoch = n / batch; // drop_last
        long maxIter = (long) settings.epochs() * perEpoch;
        int cols = nLr * classes;
        int groups = inputs.size();
        float[] lrRow = new float[cols];
        for (int l = 0; l < nLr; l++) {
            Arrays.fill(lrRow, l * classes, (l + 1) * classes, (float) scaledLr(lrs[l], settings.batchSize()));
        }
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.create(train.data(), new Shape(n, train.dim())); // (n, F)
            NDArray lr = m.create(lrRow, new Shape(1, cols)); // (1, L·C)
            NDArray[] w = new NDArray[groups];
            NDArray[] b = new NDArray[groups];
            NDArray[] vw = new NDArray[groups];
            NDArray[] vb = new NDArray[groups];
            for (int g = 0; g < groups; g++) {
                int in = inputs.get(g).length();
                w[g] = m.create(initial[g].clone(), new Shape(in, cols)); // (in, L·C)
                b[g] = m.zeros(new Shape(1, cols)); // (1, L·C)
                vw[g] = m.zeros(new Shape(in, cols));
                vb[g] = m.zeros(new Shape(1, cols));
            }
            int[] perm = null;
            int[] labels = train.labels();
            float[] onehot = new float[batch * classes];
            long[] idx = new long[batch];
            for (long it = 0; it < maxIter; it++) {
                int epoch = (int) (it / perEpoch);
                int pos = (int) (it % perEpoch);
                if (pos == 0) {
                    perm = batchOrder(n, settings.seed(), epoch);
                }
                Arrays.fill(onehot, 0f);
                for (int i = 0; i < batch; i++) {
                    int row = perm[pos * batch + i];
                    idx[i] = row;
                    onehot[i * classes + labels[row]] = 1f;
                }
                double factor = 0.5 * (1 + Math.cos(Math.PI * it / maxIter)); // CosineAnnealingLR, eta_min 0
                try (NDScope scope = new NDScope()) {
                    NDArray xb = x.get(m.create(idx)); // (B, F)
                    NDArray y = m.create(onehot, new Shape(batch, 1, classes)); // (B, 1, C)
                    NDArray step = lr.mul(factor); // (1, L·C)
                    for (int g = 0; g < groups; g++) {
                        HeadInput in = inputs.get(g);
                        NDArray xg = xb.get(new NDIndex(":, {}:{}", in.offset(), in.offset() + in.length())); // (B, in)
                        NDArray p = xg.matMul(w[g])
                                .add(b[g]) // (B, L·C)
                                .reshape(batch, nLr, classes)
                                .softmax(2); // (B, L, C)
                        NDArray dz = p.sub(y).div(batch).reshape(batch, cols); // (B, L·C): ∂(Σ heads' CE)/∂z
                        vw[g].muli(0.9).addi(xg.transpose().matMul(dz)); // (in, L·C) momentum buffer
                        vb[g].muli(0.9).addi(dz.sum(new int[] {0}, true)); // (1, L·C)
                        w[g].subi(vw[g].mul(step));
                        b[g].subi(vb[g].mul(step));
                    }
                    scope.suppressNotUsedWarning();
                }
                if (progress != null) {
                    progress.accept(it + 1);
                }
            }
            List<LinearHead> heads = new ArrayList<>(groups * nLr);
            for (int g = 0; g < groups; g++) {
                HeadInput in = inputs.get(g);
                float[] wg = w[g].toFloatArray(); // (in, L·C)
                float[] bg = b[g].toFloatArray();
                for (int l = 0; l < nLr; l++) {
                    float[] wh = new float[in.length() * classes];
                    for (int i = 0; i < in.length(); i++) {
                        System.arraycopy(wg, i * cols + l * classes, wh, i * classes, classes);
                    }
                    float[] bh = Arrays.copyOfRange(bg, l * classes, (l + 1) * classes);
                    double slr = scaledLr(lrs[l], settings.batchSize());
                    heads.add(new LinearHead(name(in, slr), in, slr, wh, bh, classes));
                }
            }
            return heads;
        }
    }

    /** The sample order of one epoch. */
    static int[] batchOrder(int n, long seed, int epoch) {
        return HoldOut.permutation(n, seed * 1_000_003L + epoch + 1);
    }

    /** {@code scale_lr}: {@code lr · batch / 256} (one process). */
    public static double scaledLr(double lr, int batchSize) {
        return lr * batchSize / 256.0;
    }

    /** The official head name: {@code classifier_{n}_blocks_avgpool_{avgpool}_lr_{lr:.5f}} with dots as '_'. */
    static String name(HeadInput in, double lr) {
        return ("classifier_" + in.stem() + "_lr_" + String.format(Locale.ROOT, "%.5f", lr)).replace('.', '_');
    }
}
