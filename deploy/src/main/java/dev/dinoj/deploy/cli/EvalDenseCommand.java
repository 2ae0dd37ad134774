package dev.dinoj.deploy.cli;

import dev.dinoj.evaluation.dense.DenseProbe;
import dev.dinoj.evaluation.dense.DenseResult;
import dev.dinoj.evaluation.features.EvalDataset;
import dev.dinoj.evaluation.features.EvalFeatures;
import dev.dinoj.evaluation.features.FeatureKind;
import dev.dinoj.evaluation.features.ModelSource;
import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.evaluation.logreg.LogRegSweep;
import dev.dinoj.evaluation.transform.DatasetViews;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dinoj eval dense}: the foreground dense probe. */
@Command(
        name = "dense",
        mixinStandardHelpOptions = true,
        description = {
            "Dense probe: a linear head on the frozen patch tokens (standardised as a batch-norm, then "
                    + "2-class logistic regression, C chosen on held-out images) predicts per-patch foreground of "
                    + "the test images' items (--test-data, default Fashion-MNIST; pixel intensity > --threshold); "
                    + "mIoU over pixels of the bilinearly upsampled logits, and over patches. --raw-pixels uses the pixels of each patch as its feature.",
            "Prints a summary and one JSON line; a checkpoint's result is appended to RUN/eval/results.jsonl."
        })
public final class EvalDenseCommand implements Callable<Integer> {

    @Mixin
    EvalOptions eval;

    @Option(
            names = "--threshold",
            defaultValue = "0.1",
            description = "foreground intensity threshold in [0, 1] " + "(default ${DEFAULT-VALUE})")
    double threshold;

    @Option(
            names = "--train-limit",
            defaultValue = "1000",
            description = "first N training images (default ${DEFAULT-VALUE})")
    int trainLimit;

    @Option(
            names = "--test-limit",
            defaultValue = "500",
            description = "first N test images (default ${DEFAULT-VALUE})")
    int testLimit;

    @Option(
            names = "--max-iter",
            defaultValue = "300",
            description = "L-BFGS iterations per fit (default ${DEFAULT-VALUE})")
    int maxIter;

    @Override
    public Integer call() {
        ModelSource src = eval.source();
        DenseProbe probe =
                new DenseProbe(new DenseProbe.Settings(threshold, LogRegSweep.grid(-3, 2, 6), 0.2, 0, maxIter));
        EvalDataset train = eval.train(src);
        EvalDataset test = eval.test(src);
        Progress p = new Progress("features");
        DenseResult r;
        try (EvalFeatures fx = eval.features(src, p)) {
            int size = fx.evalSize(train);
            FeatureSet tr = fx.get(train, trainLimit, FeatureKind.PATCH_TOKENS);
            FeatureSet te = fx.get(test, testLimit, FeatureKind.PATCH_TOKENS);
            p.done();
            System.out.println("fitting the head on " + tr.n() + " images' patches ...");
            r = probe.run(
                    tr,
                    train.derive("first", DatasetViews.first(train.images(), tr.n())),
                    te,
                    test.derive("first", DatasetViews.first(test.images(), te.n())),
                    size,
                    fx.patchSize());
        }
        eval.report(
                src,
                r.toTable(),
                r.toJson(src.type() == ModelSource.Type.PIXELS ? "pixels" : FeatureKind.PATCH_TOKENS.label()));
        return 0;
    }
}
