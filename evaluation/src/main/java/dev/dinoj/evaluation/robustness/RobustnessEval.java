package dev.dinoj.evaluation.robustness;

import dev.dinoj.evaluation.features.EvalDataset;
import dev.dinoj.evaluation.features.EvalFeatures;
import dev.dinoj.evaluation.features.FeatureKind;
import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.evaluation.knn.KnnEvaluator;
import dev.dinoj.evaluation.linear.HeadInput;
import dev.dinoj.evaluation.linear.LinearHead;
import dev.dinoj.evaluation.linear.LinearProbe;
import dev.dinoj.evaluation.linear.LinearProbeResult;
import dev.dinoj.evaluation.metrics.Accuracy;
import dev.dinoj.evaluation.transform.DatasetViews;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Robustness in the spirit of ImageNet-C: the classifiers are fitted on clean training features (a k-NN with the
 * official vote, and a linear probe over the learning-rate grid on the same features), then scored on test sets
 * whose images went through each {@link Corruption} at each severity. The corrupted sets are deterministic (noise
 * from a generator seeded by (seed, corruption, severity, image)), so their features are cached like any other.
 */
public final class RobustnessEval {

    /**
     * Settings.
     *
     * @param corruptions the corruptions
     * @param severities the severities (1..5)
     * @param k the k-NN's k
     * @param temperature the k-NN's T
     * @param linear the linear probe's settings
     * @param seed the noise seed
     */
    public record Settings(
            List<Corruption> corruptions,
            int[] severities,
            int k,
            double temperature,
            LinearProbe.Settings linear,
            long seed) {

        /**
         * Copies the lists.
         *
         * @param corruptions corruptions
         * @param severities severities
         * @param k k
         * @param temperature T
         * @param linear probe settings
         * @param seed seed
         */
        public Settings {
            corruptions = List.copyOf(corruptions);
            severities = severities.clone();
            for (int s : severities) {
                if (s < 1 || s > 5) {
                    throw new IllegalArgumentException("severities must be in [1, 5]: " + s);
                }
            }
        }

        @Override
        public int[] severities() {
            return severities.clone();
        }

        /** @return all four corruptions at severities 1..5, k = 20, T = 0.07, the default probe, seed 0 */
        public static Settings defaults() {
            return new Settings(
                    List.of(Corruption.values()),
                    new int[] {1, 2, 3, 4, 5},
                    20,
                    KnnEvaluator.DEFAULT_TEMPERATURE,
                    LinearProbe.Settings.defaults(),
                    0);
        }
    }

    /** Told when a test set is done. */
    @FunctionalInterface
    public interface Listener {
        /**
         * @param done sets done
         * @param total sets
         * @param name the set just scored
         */
        void scored(int done, int total, String name);
    }

    private final Settings settings;
    private final Listener listener;

    /**
     * @param settings the settings
     * @param listener progress (may be null)
     */
    public RobustnessEval(Settings settings, Listener listener) {
        this.settings = settings;
        this.listener = listener;
    }

    /**
     * The corrupted view of a test set.
     *
     * @param test the clean set
     * @param c the corruption
     * @param severity 1..5
     * @param seed the noise seed
     * @return the view, its id naming corruption, severity and seed
     */
    public static EvalDataset corrupted(EvalDataset test, Corruption c, int severity, long seed) {
        long base = seed * 0x9E3779B97F4A7C15L + c.ordinal() * 1_000_003L + severity * 7919L;
        return test.derive(
                c.label() + "@" + severity + ":seed=" + seed,
                DatasetViews.mapped(
                        test.images(),
                        (i, img) -> c.apply(img, severity, new SplittableRandom(base + i)),
                        c.label() + " severity " + severity));
    }

    /**
     * Runs the evaluation.
     *
     * @param fx the features of the model
     * @param train the training set (clean)
     * @param trainLimit training images (0 = all)
     * @param test the test set
     * @param testLimit test images (0 = all)
     * @param kind the feature kind both classifiers use
     * @return the result
     */
    public RobustnessResult run(
            EvalFeatures fx, EvalDataset train, int trainLimit, EvalDataset test, int testLimit, FeatureKind kind) {
        FeatureSet trainF = fx.get(train, trainLimit, kind);
        FeatureSet cleanF = fx.get(test, testLimit, kind);
        KnnEvaluator knn = KnnEvaluator.builder()
                .optKs(settings.k())
                .optTemperature(settings.temperature())
                .build();
        LinearProbeResult probe =
                new LinearProbe(settings.linear(), null).run(trainF, cleanF, List.of(HeadInput.whole(trainF.dim())));
        LinearHead head = probe.best();
        int total = 1 + settings.corruptions().size() * settings.severities().length;
        double cleanKnn = knn.evaluate(trainF, cleanF).forK(settings.k()).top1();
        double cleanLinear = probe.test().top1();
        if (listener != null) {
            listener.scored(1, total, "clean");
        }
        List<RobustnessResult.Row> rows = new ArrayList<>();
        int done = 1;
        for (Corruption c : settings.corruptions()) {
            for (int s : settings.severities()) {
                FeatureSet f = fx.get(corrupted(test, c, s, settings.seed()), testLimit, kind);
                double k = knn.evaluate(trainF, f).forK(settings.k()).top1();
                double l =
                        Accuracy.of(head.scores(f), head.classes(), f.labels()).top1();
                rows.add(new RobustnessResult.Row(c, s, k, l));
                if (listener != null) {
                    listener.scored(++done, total, String.format(Locale.ROOT, "%s@%d", c.label(), s));
                }
            }
        }
        return new RobustnessResult(settings, trainF.n(), cleanF.n(), head.name(), cleanKnn, cleanLinear, rows);
    }
}
