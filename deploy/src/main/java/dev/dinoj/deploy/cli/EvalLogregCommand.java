package dev.dinoj.deploy.cli;

import dev.dinoj.evaluation.features.FeatureKind;
import dev.dinoj.evaluation.features.ModelSource;
import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.evaluation.logreg.LogRegResult;
import dev.dinoj.evaluation.logreg.LogRegSweep;
import dev.dinoj.evaluation.logreg.LogisticRegression;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dinoj eval logreg}: logistic regression with a C sweep. */
@Command(
        name = "logreg",
        mixinStandardHelpOptions = true,
        description = {
            "Logistic regression (dinov2/eval/log_regression.py) on frozen features of labelled images "
                    + "(--train-data / --test-data, default Fashion-MNIST): L2-regularised multinomial model fitted by L-BFGS in float64 for each C of 10^linspace(-6, 5, 45), "
                    + "C chosen on 10 %% of train, refitted on all of train, reported on test.",
            "Prints a table and one JSON line; a checkpoint's result is appended to RUN/eval/results.jsonl."
        })
public final class EvalLogregCommand implements Callable<Integer> {

    @Mixin
    EvalOptions eval;

    @Option(
            names = "--features",
            defaultValue = "cls",
            description = "cls | cls+avgpool | last-blocks (default ${DEFAULT-VALUE})")
    String features;

    @Option(names = "--c-steps", defaultValue = "45", description = "grid points (default ${DEFAULT-VALUE})")
    int cSteps;

    @Option(names = "--c-min", defaultValue = "-6", description = "lowest power of ten (default ${DEFAULT-VALUE})")
    double cMin;

    @Option(names = "--c-max", defaultValue = "5", description = "highest power of ten (default ${DEFAULT-VALUE})")
    double cMax;

    @Option(
            names = "--max-iter",
            defaultValue = "1000",
            description = "L-BFGS iterations per C (default ${DEFAULT-VALUE})")
    int maxIter;

    @Option(
            names = "--gtol",
            defaultValue = "1e-6",
            description = "a fit stops when its largest gradient component "
                    + "is below this (default ${DEFAULT-VALUE}; lower = closer to the official tol 1e-12, slower)")
    double gtol;

    @Option(
            names = "--held-out",
            defaultValue = "0.1",
            description = "share of train to choose C on (default ${DEFAULT-VALUE})")
    double heldOut;

    @Option(names = "--train-limit", defaultValue = "0", description = "first N training images (0 = all)")
    int trainLimit;

    @Option(names = "--test-limit", defaultValue = "0", description = "first N test images (0 = all)")
    int testLimit;

    @Override
    public Integer call() {
        ModelSource src = eval.source();
        FeatureKind kind = eval.kind(features);
        FeatureSet[] f = eval.trainAndTest(src, kind, trainLimit, testLimit);
        FeatureSet tr = f[0];
        FeatureSet te = f[1];
        Progress pp = new Progress("C sweep");
        LogRegResult r = new LogRegSweep(
                        new LogRegSweep.Settings(LogRegSweep.grid(cMin, cMax, cSteps), heldOut, 0, 0),
                        new LogisticRegression(maxIter, gtol, 1e-12),
                        (done, total, c, top1) -> pp.update(done, total, String.format(Locale.ROOT, "C=%.3g", c)))
                .run(tr, te);
        pp.done();
        eval.report(src, r.toTable(), r.toJson(kind.label()));
        return 0;
    }
}
