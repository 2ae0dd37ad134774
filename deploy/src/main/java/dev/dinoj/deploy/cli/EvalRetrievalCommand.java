package dev.dinoj.deploy.cli;

import dev.dinoj.evaluation.features.EvalFeatures;
import dev.dinoj.evaluation.features.FeatureKind;
import dev.dinoj.evaluation.features.ModelSource;
import dev.dinoj.evaluation.retrieval.CopyDetection;
import dev.dinoj.evaluation.retrieval.RetrievalResult;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code dinoj eval retrieval}: copy detection mAP. */
@Command(
        name = "retrieval",
        mixinStandardHelpOptions = true,
        description = {
            "Instance retrieval / copy detection on the test images (--test-data, default Fashion-MNIST "
                    + "test): each query's edited copies (random resized crop keeping >= --crop-scale of the area, flip, and one of brightness, contrast, noise, blur, JPEG) are hidden among "
                    + "distractors; queries rank the database by cosine similarity; mAP and recall@1.",
            "Prints a summary and one JSON line; a checkpoint's result is appended to RUN/eval/results.jsonl."
        })
public final class EvalRetrievalCommand implements Callable<Integer> {

    @Mixin
    EvalOptions eval;

    @Option(
            names = "--features",
            defaultValue = "cls",
            description = "cls | cls+avgpool | last-blocks (default ${DEFAULT-VALUE})")
    String features;

    @Option(names = "--queries", defaultValue = "200", description = "query images (default ${DEFAULT-VALUE})")
    int queries;

    @Option(names = "--copies", defaultValue = "3", description = "edited copies per query (default ${DEFAULT-VALUE})")
    int copies;

    @Option(
            names = "--distractors",
            defaultValue = "2000",
            description = "distractor images (default ${DEFAULT-VALUE})")
    int distractors;

    @Option(
            names = "--crop-scale",
            defaultValue = "0.8",
            description = "smallest share of the area a copy's crop " + "keeps (default ${DEFAULT-VALUE})")
    double cropScale;

    @Option(names = "--copy-seed", defaultValue = "0", description = "seed of the edits (default ${DEFAULT-VALUE})")
    long copySeed;

    @Override
    public Integer call() {
        ModelSource src = eval.source();
        FeatureKind kind = eval.kind(features);
        CopyDetection cd =
                new CopyDetection(new CopyDetection.Settings(queries, copies, distractors, cropScale, copySeed));
        CopyDetection.Sets sets = cd.sets(eval.test(src));
        Progress p = new Progress("features");
        RetrievalResult r;
        try (EvalFeatures fx = eval.features(src, p)) {
            r = cd.evaluate(
                    fx.get(sets.queries(), 0, kind),
                    fx.get(sets.copies(), 0, kind),
                    fx.get(sets.distractors(), 0, kind));
        }
        p.done();
        eval.report(src, r.toTable(), r.toJson(kind.label()));
        return 0;
    }
}
