package dev.dinoj.deploy.cli;

import dev.dinoj.evaluation.features.FeatureKind;
import dev.dinoj.evaluation.features.ModelSource;
import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.evaluation.knn.KnnEvaluator;
import dev.dinoj.evaluation.knn.KnnResult;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dinoj eval …}: evaluation protocols on frozen features. */
@Command(
        name = "eval",
        mixinStandardHelpOptions = true,
        description = {
            "Evaluate frozen features on labelled images: Fashion-MNIST by default, or --train-data SPEC --test-data "
                    + "SPEC (folder:DIR with one sub-folder per class, curated:DIR|s3://…, idx:FILE); photos go through "
                    + "dinov2's evaluation transform (resize 256, centre crop 224 for 224-px models; --resize, --crop)."
        },
        subcommands = {
            EvalCommand.Knn.class,
            EvalLinearCommand.class,
            EvalLogregCommand.class,
            EvalRetrievalCommand.class,
            EvalDenseCommand.class,
            EvalRobustnessCommand.class
        })
public final class EvalCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** {@code dinoj eval knn}. */
    @Command(
            name = "knn",
            mixinStandardHelpOptions = true,
            description = {
                "Weighted k-NN (dinov2/eval/knn.py: T = 0.07, k in {10, 20, 100, 200}) of the teacher "
                        + "backbone's L2-normalised features, the test images (--test-data, default Fashion-MNIST "
                        + "test) against the training images (--train-data).",
                "Prints a table and one JSON line; a checkpoint's result is appended to RUN/eval/results.jsonl."
            })
    public static final class Knn implements Callable<Integer> {

        @Mixin
        EvalOptions eval;

        @Option(
                names = "--features",
                defaultValue = "cls",
                description = "cls | cls+avgpool | last-blocks (default " + "${DEFAULT-VALUE})")
        String features;

        @Option(
                names = "--ks",
                split = ",",
                description = "k values (default dinov2's 10,20,100,200, those at most the training images)")
        int[] ks;

        /** dinov2's k values. */
        static final int[] DEFAULT_KS = {10, 20, 100, 200};

        @Option(
                names = "--temperature",
                defaultValue = "0.07",
                description = "T of the weighted vote (default ${DEFAULT-VALUE})")
        double temperature;

        @Option(
                names = "--train-limit",
                defaultValue = "0",
                description = "use only the first N training images (0 = all)")
        int trainLimit;

        @Option(names = "--test-limit", defaultValue = "0", description = "use only the first N test images (0 = all)")
        int testLimit;

        @Override
        public Integer call() {
            ModelSource src = eval.source();
            FeatureKind kind = eval.kind(features);
            FeatureSet[] f = eval.trainAndTest(src, kind, trainLimit, testLimit);
            FeatureSet tr = f[0];
            FeatureSet te = f[1];
            int[] k = ks != null ? ks : defaultKs(tr.n());
            if (ks == null && k.length < DEFAULT_KS.length) {
                System.err.println("dinoj: k-NN with k = " + Arrays.toString(k) + ": only " + tr.n()
                        + " training images (--ks to choose)");
            }
            KnnResult r = KnnEvaluator.builder()
                    .optKs(k)
                    .optTemperature(temperature)
                    .build()
                    .evaluate(tr, te);
            eval.report(src, r.toTable(), r.toJson(kind.label()));
            return 0;
        }

        /** dinov2's k values up to {@code n} training images; {@code {n}} when even 10 is too many. */
        static int[] defaultKs(int n) {
            int[] k = Arrays.stream(DEFAULT_KS).filter(x -> x <= n).toArray();
            return k.length > 0 ? k : new int[] {Math.max(1, n)};
        }
    }
}
