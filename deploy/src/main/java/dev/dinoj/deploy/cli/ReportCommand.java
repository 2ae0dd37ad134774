package dev.dinoj.deploy.cli;

import dev.dinoj.deploy.errors.UserError;
import dev.dinoj.evaluation.features.EvalDataset;
import dev.dinoj.evaluation.features.ModelSource;
import dev.dinoj.evaluation.report.Report;
import dev.dinoj.trainer.checkpoint.Checkpoints;
import dev.dinoj.trainer.model.VitConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dinoj report RUN_DIR}: the HTML report of a training run. */
@Command(
        name = "report",
        mixinStandardHelpOptions = true,
        description = {
            "Write an HTML report with PNG figures about a training run: loss curves per term, schedules, "
                    + "k-NN over training (a few checkpoints, features cached in RUN/eval/cache) with the top-1 per "
                    + "class, the evaluation table (RUN/eval/results.jsonl), PCA of patch features as RGB, nearest "
                    + "neighbours of test queries captioned with their class names, and a curated-cluster section "
                    + "when a curation manifest exists.",
            "The k-NN, PCA and neighbours use --train-data / --test-data (default Fashion-MNIST), photos through "
                    + "dinov2's evaluation transform for the run's model (--resize, --crop).",
            "Prints where index.html is."
        })
public final class ReportCommand implements Callable<Integer> {

    @Parameters(index = "0", paramLabel = "RUN_DIR", description = "the run directory (metrics.jsonl, checkpoints/)")
    Path runDir;

    @Option(names = "--out", description = "output directory (default RUN_DIR/report)")
    Path out;

    @Mixin
    DataOptions data;

    @Option(
            names = "--knn-train",
            defaultValue = "5000",
            description = "training images for the k-NN curve and the " + "neighbours (default ${DEFAULT-VALUE})")
    int knnTrain;

    @Option(
            names = "--knn-test",
            defaultValue = "1000",
            description = "test images for the k-NN curve (default ${DEFAULT-VALUE})")
    int knnTest;

    @Option(
            names = "--knn-checkpoints",
            defaultValue = "6",
            description = "at most this many checkpoints on the k-NN " + "curve (default ${DEFAULT-VALUE})")
    int knnCheckpoints;

    @Option(
            names = "--pca-images",
            defaultValue = "8",
            description = "test images in the PCA figure (default ${DEFAULT-VALUE})")
    int pcaImages;

    @Option(
            names = "--pca-size",
            defaultValue = "0",
            description = "input side of the PCA figure (default: twice the " + "training size)")
    int pcaSize;

    @Option(
            names = "--queries",
            defaultValue = "6",
            description = "queries in the neighbour figure (default ${DEFAULT-VALUE})")
    int queries;

    @Option(names = "--neighbours", defaultValue = "5", description = "neighbours per query (default ${DEFAULT-VALUE})")
    int neighbours;

    @Option(
            names = {"--curated", "--curation-manifest"},
            description =
                    "the curated dataset the run trained on (a directory written by dinoj curate; default: RUN_DIR/curated)")
    Path curationManifest;

    @Option(names = "--batch", defaultValue = "256", description = "images per forward pass (default ${DEFAULT-VALUE})")
    int batch;

    @Override
    public Integer call() {
        if (!Files.isDirectory(runDir)) {
            throw new UserError(runDir + ": not a directory");
        }
        if (!Files.isRegularFile(runDir.resolve("metrics.jsonl"))
                && !Files.isDirectory(runDir.resolve("checkpoints"))) {
            throw new UserError(runDir + ": not a run directory (no metrics.jsonl, no checkpoints/)");
        }
        Path outDir = out != null ? out : runDir.resolve("report");
        List<Path> checkpoints = Checkpoints.list(runDir);
        VitConfig model = checkpoints.isEmpty()
                ? null
                : ModelSource.checkpoint(checkpoints.get(checkpoints.size() - 1))
                        .config();
        EvalDataset train = data.train(model);
        EvalDataset test = data.test(model);
        Report.Options o = new Report.Options(
                runDir,
                outDir,
                train,
                test,
                knnTrain,
                knnTest,
                knnCheckpoints,
                batch,
                pcaImages,
                pcaSize,
                queries,
                neighbours,
                curationManifest,
                train.classes().isEmpty() ? null : train.classes().toArray(new String[0]));
        long t0 = System.nanoTime();
        Report.Result r = new Report(o, msg -> System.err.println("report: " + msg)).write();
        System.out.printf(
                Locale.ROOT,
                "report written in %.1f s: %s (%d figures)%n",
                (System.nanoTime() - t0) / 1e9,
                r.html().toAbsolutePath(),
                r.figures().size());
        r.knn()
                .forEach((step, top1) -> System.out.printf(
                        Locale.ROOT,
                        "  k-NN top-1 (k=%d) at step %d%s: %.2f %%%n",
                        r.knnK(),
                        step,
                        step == 0 ? " (random init)" : "",
                        top1));
        if (!r.knn().isEmpty()) {
            System.out.printf(Locale.ROOT, "  raw pixels: %.2f %%%n", r.pixelKnn());
        }
        if (!train.classes().isEmpty()) {
            System.out.println("  classes: " + String.join(", ", train.classes()));
        }
        return 0;
    }
}
