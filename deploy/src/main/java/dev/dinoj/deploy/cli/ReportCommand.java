package dev.dinoj.deploy.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.deploy.errors.UserError;
import dev.dinoj.evaluation.features.EvalDataset;
import dev.dinoj.evaluation.features.ModelSource;
import dev.dinoj.evaluation.metrics.Json;
import dev.dinoj.evaluation.report.Report;
import dev.dinoj.trainer.checkpoint.Checkpoints;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.model.VitConfig;
import java.io.IOException;
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
    private static final ObjectMapper JSON = new ObjectMapper();

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

    @Option(names = "--json", description = "end with one JSON line: the report, progress, k-NN per step, classes")
    boolean json;

    @Override
    public Integer call() {
        if (!Files.isDirectory(runDir)) {
            throw new UserError(runDir + ": not a directory");
        }
        if (!Files.isRegularFile(runDir.resolve("metrics.jsonl"))
                && !Files.isDirectory(runDir.resolve("checkpoints"))) {
            throw new UserError(runDir + ": not a run directory (no metrics.jsonl, no checkpoints/)");
        }
        long[] progress = progress(runDir);
        if (progress[0] >= 0) {
            System.out.println(
                    progress[1] > 0
                            ? String.format(
                                    Locale.ROOT,
                                    "progress: step %d of %d (%.0f %%)",
                                    progress[0],
                                    progress[1],
                                    100.0 * progress[0] / progress[1])
                            : "progress: step " + progress[0]);
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
        if (json) {
            ObjectNode line = Json.object();
            line.put("report", r.html().toAbsolutePath().toString());
            line.put("figures", r.figures().size());
            line.put("step", progress[0]);
            line.put("total_steps", progress[1]);
            ObjectNode knn = line.putObject("knn_top1");
            r.knn().forEach((step, top1) -> knn.put(Long.toString(step), Json.fixed(top1, 2)));
            if (!r.knn().isEmpty()) {
                line.put("pixel_knn_top1", Json.fixed(r.pixelKnn(), 2));
            }
            ArrayNode classes = line.putArray("classes");
            train.classes().forEach(classes::add);
            System.out.println(Json.line(line));
        }
        return 0;
    }

    /**
     * How far the run got: the last step of {@code metrics.jsonl} (-1 when there is none) and the steps its
     * {@code config.conf} schedules (0 when unknown), so a report of a running run says where it stands.
     */
    static long[] progress(Path runDir) {
        long step = -1;
        Path metrics = runDir.resolve("metrics.jsonl");
        try {
            if (Files.isRegularFile(metrics)) {
                for (String line : Files.readAllLines(metrics)) {
                    try {
                        step = Math.max(step, JSON.readTree(line).path("step").asLong(-1));
                    } catch (IOException e) {
                        // a line being written: the ones before it count
                    }
                }
            }
        } catch (IOException e) {
            throw new UserError(metrics + ": cannot be read (" + e.getMessage() + ")");
        }
        long total = 0;
        Path config = runDir.resolve("config.conf");
        if (Files.isRegularFile(config)) {
            try {
                total = TrainSettings.load(config.toString(), List.of()).totalSteps();
            } catch (RuntimeException e) {
                total = 0; // a config this version cannot read: progress without the total
            }
        }
        return new long[] {step, total};
    }
}
