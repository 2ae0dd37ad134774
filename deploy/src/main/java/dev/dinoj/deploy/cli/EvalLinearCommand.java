package dev.dinoj.deploy.cli;

import dev.dinoj.evaluation.features.EvalDataset;
import dev.dinoj.evaluation.features.EvalFeatures;
import dev.dinoj.evaluation.features.FeatureKind;
import dev.dinoj.evaluation.features.ModelSource;
import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.evaluation.linear.HeadInput;
import dev.dinoj.evaluation.linear.LinearProbe;
import dev.dinoj.evaluation.linear.LinearProbeResult;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dinoj eval linear}: the DINOv2 linear probe on frozen features. */
@Command(
        name = "linear",
        mixinStandardHelpOptions = true,
        description = {
            "Linear probe (dinov2/eval/linear.py) on frozen features of labelled images (--train-data / "
                    + "--test-data, default Fashion-MNIST): CLS of the last 1 or 4 blocks, with or without the average-pooled patch tokens, one head per learning rate of the "
                    + "grid, all trained in one pass (SGD, momentum 0.9, cosine to 0); the head with the best top-1 on "
                    + "a held-out part of train is reported on test.",
            "Prints a table and one JSON line; a checkpoint's result is appended to RUN/eval/results.jsonl."
        })
public final class EvalLinearCommand implements Callable<Integer> {

    @Mixin
    EvalOptions eval;

    @Option(
            names = "--features",
            defaultValue = "last-blocks",
            description = "last-blocks (the official 4 inputs) | cls | cls+avgpool (default ${DEFAULT-VALUE})")
    String features;

    @Option(
            names = "--learning-rates",
            split = ",",
            description =
                    "base learning rates (default: the official 13 " + "from 1e-5 to 0.1), each scaled by batch/256")
    double[] learningRates;

    @Option(
            names = "--epochs",
            defaultValue = "10",
            description = "passes over the training features (default ${DEFAULT-VALUE})")
    int epochs;

    @Option(names = "--batch-size", defaultValue = "128", description = "SGD batch (default ${DEFAULT-VALUE})")
    int batchSize;

    @Option(
            names = "--val-fraction",
            defaultValue = "0.1",
            description = "share of train held out to choose the " + "head (default ${DEFAULT-VALUE})")
    double valFraction;

    @Option(
            names = "--probe-seed",
            defaultValue = "0",
            description = "seed of the split, initialisation and batch " + "order (default ${DEFAULT-VALUE})")
    long probeSeed;

    @Option(names = "--train-limit", defaultValue = "0", description = "first N training images (0 = all)")
    int trainLimit;

    @Option(names = "--test-limit", defaultValue = "0", description = "first N test images (0 = all)")
    int testLimit;

    @Override
    public Integer call() {
        ModelSource src = eval.source();
        FeatureKind kind = eval.kind(features);
        LinearProbe.Settings settings = new LinearProbe.Settings(
                learningRates != null ? learningRates : LinearProbe.OFFICIAL_LEARNING_RATES,
                epochs,
                batchSize,
                valFraction,
                probeSeed,
                0);
        EvalDataset train = eval.train(src);
        EvalDataset test = eval.test(src);
        Progress p = new Progress("features");
        LinearProbeResult r;
        try (EvalFeatures fx = eval.features(src, p)) {
            FeatureSet tr = fx.get(train, trainLimit, kind);
            FeatureSet te = fx.get(test, testLimit, kind);
            p.done();
            List<HeadInput> inputs = kind == FeatureKind.LAST_BLOCKS
                    ? HeadInput.lastBlocks(fx.lastBlocks(), fx.embedDim())
                    : List.of(HeadInput.whole(tr.dim()));
            Progress pp = new Progress("probe");
            long perEpoch = (long) (tr.n() - (int) Math.floor(tr.n() * valFraction)) / Math.min(batchSize, tr.n());
            long total = Math.max(1, perEpoch * epochs);
            r = new LinearProbe(
                            settings,
                            it -> pp.update(it, total, inputs.size() * settings.learningRates().length + " heads"))
                    .run(tr, te, inputs);
            pp.done();
        }
        eval.report(src, r.toTable(), r.toJson(kind.label()));
        return 0;
    }
}
