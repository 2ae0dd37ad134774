package dev.dinoj.deploy.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.deploy.errors.UserError;
import dev.dinoj.evaluation.metrics.Json;
import dev.dinoj.pipeline.data.EncodedImages;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.PixelGuard;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.train.StepReport;
import dev.dinoj.trainer.train.TrainLoop;
import dev.dinoj.trainer.train.TrainingRun;
import dev.dinoj.trainer.train.sharded.ShardedTrainingRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dinoj train --config FILE [--set k=v …] --out DIR [--resume]}. */
@Command(
        name = "train",
        mixinStandardHelpOptions = true,
        description = {
            "Pretrain a ViT with the DINOv2 recipe in this JVM; --set model.pretrained-weights=FILE starts the "
                    + "student and the teacher from a published backbone (dinov2 hub, transformers or timm layout).",
            "Writes DIR/config.conf (resolved), DIR/metrics.jsonl and DIR/checkpoints/step-N (atomic, checksummed)."
        })
public final class TrainCommand implements Callable<Integer> {

    @Option(
            names = "--config",
            description = "HOCON file or preset name (fmnist-tiny, fmnist-pico, vits14, vitb14, vitl14); "
                    + "defaults: trainer/src/main/resources/reference.conf")
    String config;

    @Option(names = "--set", description = "override a key, e.g. --set optim.base-lr=0.002 (repeatable)")
    List<String> sets = new ArrayList<>();

    @Option(
            names = "--device",
            description = "cpu | cuda | cuda:N: where the step runs (same as --set device=…; cuda = GPU 0 here, each "
                    + "rank's local GPU with --ranks or on a cluster; default: the config's dinoj.device, cpu)")
    String device;

    @Option(names = "--out", required = true, description = "run directory")
    Path out;

    @Option(names = "--resume", description = "continue from the newest checkpoint in --out (same data stream)")
    boolean resume;

    @Option(
            names = "--ranks",
            description = {
                "train with the sharded (FSDP-like) step in N rank JVMs on this host, "
                        + "Aeron collectives between them (dinoj.collectives.*; docs/COLLECTIVES.md); sharded checkpoints that "
                        + "--resume continues with any number of ranks and eval/export read; rank logs in DIR/ranks"
            })
    Integer ranks;

    @Option(
            names = "--cluster",
            description = "submit the run to the running cluster's coordinator instead of training "
                    + "here (--out is then the run directory, shared by the coordinator nodes)")
    boolean cluster;

    @Option(
            names = "--management",
            defaultValue = "http://127.0.0.1:8558",
            description = "with --cluster: management URL of any node (default http://127.0.0.1:8558)")
    String management;

    @Option(
            names = "--token",
            description = "with --cluster: management bearer token (default: $DINOJ_MANAGEMENT_TOKEN)")
    String token;

    @Option(names = "--steps", defaultValue = "0", description = "with --cluster: steps to train (0 = the config's)")
    long steps;

    @Option(
            names = "--checkpoint-every",
            defaultValue = "0",
            description = "with --cluster: checkpoint every N steps (0 = the config's)")
    int checkpointEvery;

    @Option(
            names = "--curate-source",
            description =
                    "with --cluster: curate this pool (s3://bucket/prefix) on the "
                            + "cluster's curation nodes first, then train on the result (docs/CLUSTER.md \"Curate, then train\")")
    String curateSource;

    @Option(names = "--curate-queries", description = "with --curate-source: query images for retrieval (s3://…)")
    String curateQueries;

    @Option(names = "--curate-out", description = "with --curate-source: where the curated set goes (s3://…)")
    String curateOut;

    @Option(
            names = "--curate-target-size",
            defaultValue = "0",
            description = "with --curate-source: size of the curated set (0 = as selected)")
    int curateTargetSize;

    @Option(
            names = "--curate-partitions",
            defaultValue = "0",
            description = "with --curate-source: pool partitions (0 = dinoj.actors.curation.partitions)")
    int curatePartitions;

    @Option(
            names = "--curate-embedder",
            description = "with --curate-source: retrieval embedder (pixels:SIDE, "
                    + "thumbnail:SIDE, vit:CHECKPOINT, vit:WEIGHTS; default pixels:28)")
    String curateEmbedder;

    @Option(
            names = "--curate-exclude",
            paramLabel = "SPEC",
            description = "with --curate-source: drop the pool images that are copies of this set's images, as "
                    + "curate --exclude (repeatable; a submitted run may name curated:s3://…, curated:DIR below the "
                    + "node's roots or fashion-mnist:train|test)")
    List<String> curateExclude = new ArrayList<>();

    @Option(
            names = "--curate-exclude-threshold",
            description = "with --curate-exclude: aligned-verification score of a copy (default 0.963)")
    Float curateExcludeThreshold;

    @Option(names = "--json", description = "end with one JSON line (steps, seconds, last checkpoint, last losses)")
    boolean json;

    @Option(
            names = "--metrics-port",
            description = "serve Prometheus metrics on 127.0.0.1:PORT/metrics while training here (step, images/s, "
                    + "step time, data wait, each loss term, GC, heap, resident memory)")
    Integer metricsPort;

    @Override
    public Integer call() throws Exception {
        if (device != null) {
            sets.add("device=" + device);
        }
        if (cluster) {
            if (ranks != null) {
                throw new UserError("--cluster and --ranks exclude each other: the cluster's workers are its ranks");
            }
            return submit();
        }
        TrainSettings settings = TrainSettings.load(config, sets);
        settings.device().resolve(ranks == null ? 0 : ranks - 1); // an unusable device: one line, exit 2
        Progress progress = new Progress("train");
        TrainLoop.Result r;
        // the single-JVM run's dataset, opened here so that its pixel guard's count can be reported
        ImageDataset data = ranks == null ? settings.openDataset() : null;
        PixelGuard guard = data instanceof EncodedImages e ? e.guard() : null;
        try (LocalMetrics metrics = LocalMetrics.start(metricsPort)) {
            if (metrics != null) {
                metrics.forTraining();
                if (guard != null) {
                    metrics.pixelGuard(guard);
                }
                System.err.println("dinoj: metrics on http://127.0.0.1:" + metrics.port() + "/metrics");
            }
            TrainLoop.Listener listener = rep -> {
                progress.update(
                        rep.step(),
                        rep.totalSteps(),
                        String.format(Locale.ROOT, "loss %.4f  %.1f img/s", rep.totalLoss(), rep.imagesPerSecond()));
                if (metrics != null) {
                    metrics.step(rep);
                }
            };
            r = ranks != null
                    ? ShardedTrainingRun.launch(config, sets, out, resume, ranks, listener)
                    : new TrainingRun(settings, out, resume, listener)
                            .withDataset(data)
                            .run();
        }
        progress.done();
        // with --ranks each rank decodes its part of the batches: the run's count is the union of theirs
        int skipped = guard != null ? guard.skipped() : ranks != null ? ShardedTrainingRun.skippedImages(out) : -1;
        if (json) {
            ObjectNode line = Json.object();
            line.put("train", out.toString());
            line.put("start_step", r.startStep());
            line.put("end_step", r.endStep());
            line.put("seconds", Json.fixed(r.seconds(), 2));
            line.put(
                    "last_checkpoint",
                    r.lastCheckpoint() == null ? null : r.lastCheckpoint().toString());
            if (!r.steps().isEmpty()) {
                StepReport last = r.steps().get(r.steps().size() - 1);
                line.put("total_loss", last.totalLoss());
                last.losses().forEach(line::put);
                line.put("images_per_s", Json.fixed(last.imagesPerSecond(), 2));
            }
            if (skipped >= 0) {
                line.put("images_skipped", skipped);
            }
            System.out.println(Json.line(line));
        } else {
            System.out.printf(
                    "trained steps %d..%d in %.0f s; last checkpoint: %s%n",
                    r.startStep(), r.endStep(), r.seconds(), r.lastCheckpoint());
            if (skipped > 0) {
                System.out.printf(
                        "%d image(s) over the pixel guard (%s) skipped; the log names them%n", skipped, PixelGuard.KEY);
            }
        }
        return 0;
    }

    /** POST /training/submit to the cluster; prints the coordinator's answer. */
    private int submit() throws Exception {
        if (config == null || config.isBlank()) {
            throw new UserError("--cluster needs --config (a HOCON file or preset name)");
        }
        TrainSettings.load(config, sets); // a bad config fails here, with the local error
        Path file = Path.of(config);
        String cfg = Files.isRegularFile(file) ? file.toAbsolutePath().toString() : config;
        String bearer = ManagementClient.token(token, "--cluster");
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("config", cfg);
        body.put("set", sets);
        body.put("dir", out.toAbsolutePath().toString());
        body.put("steps", steps);
        body.put("checkpoint_every", checkpointEvery);
        if (curateSource != null) {
            if (curateOut == null) {
                throw new UserError("--curate-source needs --curate-out (s3://bucket/prefix for the curated set)");
            }
            Map<String, Object> curate = new LinkedHashMap<>();
            curate.put("source", curateSource);
            curate.put("queries", curateQueries == null ? "" : curateQueries);
            curate.put("out", curateOut);
            curate.put("target_size", curateTargetSize);
            curate.put("embedder", curateEmbedder == null ? "" : curateEmbedder);
            curate.put("partitions", curatePartitions);
            if (!curateExclude.isEmpty()) {
                curate.put("exclude", curateExclude);
            }
            if (curateExcludeThreshold != null) {
                if (!(curateExcludeThreshold > 0 && curateExcludeThreshold <= 1)) {
                    throw new UserError("--curate-exclude-threshold " + curateExcludeThreshold + ": must be in (0, 1]");
                }
                curate.put("exclude_threshold", curateExcludeThreshold);
            }
            body.put("curate", curate);
        } else if (curateOut != null
                || curateQueries != null
                || curateEmbedder != null
                || !curateExclude.isEmpty()
                || curateExcludeThreshold != null) {
            throw new UserError(
                    "--curate-out, --curate-queries, --curate-embedder and --curate-exclude need " + "--curate-source");
        }
        String message = new ManagementClient(management).post("/training/submit", bearer, body);
        System.out.println(message + "; follow it with ./dinoj status --management " + management);
        return 0;
    }
}
