package dev.dinoj.deploy.cli;

import dev.dinoj.deploy.errors.UserError;
import dev.dinoj.evaluation.features.EvalDataset;
import dev.dinoj.evaluation.features.EvalFeatures;
import dev.dinoj.evaluation.features.FeatureKind;
import dev.dinoj.evaluation.features.ModelSource;
import dev.dinoj.evaluation.knn.KnnEvaluator;
import dev.dinoj.evaluation.linear.LinearProbe;
import dev.dinoj.evaluation.robustness.Corruption;
import dev.dinoj.evaluation.robustness.RobustnessEval;
import dev.dinoj.evaluation.robustness.RobustnessResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dinoj eval robustness}: accuracy on corrupted test sets. */
@Command(
        name = "robustness",
        mixinStandardHelpOptions = true,
        description = {
            "Robustness in the spirit of ImageNet-C: a k-NN and a linear probe fitted on clean training "
                    + "features are scored on test sets (--test-data, default Fashion-MNIST) corrupted by Gaussian "
                    + "noise, Gaussian blur, contrast and JPEG at severities 1-5.",
            "Prints a table and one JSON line; a checkpoint's result is appended to RUN/eval/results.jsonl."
        })
public final class EvalRobustnessCommand implements Callable<Integer> {

    @Mixin
    EvalOptions eval;

    @Option(
            names = "--features",
            defaultValue = "cls",
            description = "cls | cls+avgpool | last-blocks (default ${DEFAULT-VALUE})")
    String features;

    @Option(
            names = "--corruptions",
            split = ",",
            defaultValue = "gaussian_noise,gaussian_blur,contrast,jpeg_compression",
            description = "corruptions (default ${DEFAULT-VALUE})")
    List<String> corruptions;

    @Option(
            names = "--severities",
            split = ",",
            defaultValue = "1,2,3,4,5",
            description = "severities (default ${DEFAULT-VALUE})")
    int[] severities;

    @Option(names = "--k", defaultValue = "20", description = "k of the k-NN (default ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--epochs", defaultValue = "10", description = "linear probe passes (default ${DEFAULT-VALUE})")
    int epochs;

    @Option(
            names = "--train-limit",
            defaultValue = "10000",
            description = "first N training images (default ${DEFAULT-VALUE}; 0 = all)")
    int trainLimit;

    @Option(
            names = "--test-limit",
            defaultValue = "1000",
            description = "first N test images per set (default ${DEFAULT-VALUE}; 0 = all)")
    int testLimit;

    @Override
    public Integer call() {
        ModelSource src = eval.source();
        FeatureKind kind = eval.kind(features);
        List<Corruption> cs = new ArrayList<>();
        for (String c : corruptions) {
            try {
                cs.add(Corruption.parse(c.trim()));
            } catch (IllegalArgumentException e) {
                throw new UserError("--corruptions: " + e.getMessage());
            }
        }
        RobustnessEval.Settings settings = new RobustnessEval.Settings(
                cs,
                severities,
                k,
                KnnEvaluator.DEFAULT_TEMPERATURE,
                LinearProbe.Settings.defaults().withEpochs(epochs),
                0);
        EvalDataset train = eval.train(src);
        EvalDataset test = eval.test(src);
        Progress p = new Progress("features");
        Progress sets = new Progress("test sets");
        RobustnessResult r;
        try (EvalFeatures fx = eval.features(src, p)) {
            r = new RobustnessEval(settings, (done, total, name) -> sets.update(done, total, name))
                    .run(fx, train, trainLimit, test, testLimit, kind);
        }
        sets.done();
        eval.report(src, r.toTable(), r.toJson(kind.label()));
        return 0;
    }
}
