package dev.dinoj.deploy.cli;

import dev.dinoj.deploy.errors.UserError;
import dev.dinoj.evaluation.features.EvalDataset;
import dev.dinoj.evaluation.features.EvalFeatures;
import dev.dinoj.evaluation.features.FeatureCache;
import dev.dinoj.evaluation.features.FeatureKind;
import dev.dinoj.evaluation.features.ModelSource;
import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.evaluation.results.EvalLog;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.model.VitConfig;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options every {@code dinoj eval} protocol shares (a picocli mixin): which model, which data, the feature
 * cache and where the result is recorded.
 */
final class EvalOptions {

    @Option(
            names = "--checkpoint",
            description = "checkpoint directory (step-N) or run directory (its newest); "
                    + "its teacher backbone is evaluated")
    Path checkpoint;

    @Option(
            names = "--weights",
            description = "safetensors backbone in the dinov2 hub (dinoj export), Hugging Face transformers or timm "
                    + "layout; its architecture is read from the file (--config overrides it)")
    Path weights;

    @Option(
            names = "--random-init",
            description =
                    "a randomly initialised backbone of the same architecture " + "(of --checkpoint, or of --config)")
    boolean randomInit;

    @Option(names = "--raw-pixels", description = "raw pixels (resized, normalised) instead of a model")
    boolean rawPixels;

    @Option(
            names = "--config",
            description = "preset or HOCON file giving the architecture for --random-init without --checkpoint, "
                    + "or for --weights instead of the file's (its heads and interpolation; the shapes must match)")
    String config;

    @Option(names = "--seed", defaultValue = "0", description = "seed of --random-init (default ${DEFAULT-VALUE})")
    long seed;

    @Mixin
    DataOptions data;

    @Option(names = "--batch", defaultValue = "256", description = "images per forward pass (default ${DEFAULT-VALUE})")
    int batch;

    @Option(
            names = "--cache-dir",
            description = "feature cache directory (default: RUN/eval/cache for a checkpoint "
                    + "of a run, else ~/.cache/dinoj/features)")
    Path cacheDir;

    @Option(names = "--no-cache", description = "extract features afresh and store nothing")
    boolean noCache;

    @Option(names = "--no-record", description = "do not append the result to RUN/eval/results.jsonl")
    boolean noRecord;

    /** The model source the options name. */
    ModelSource source() {
        int given = (checkpoint != null ? 1 : 0) + (weights != null ? 1 : 0) + (rawPixels ? 1 : 0);
        if (given > 1) {
            throw new UserError("give only one of --checkpoint, --weights and --raw-pixels");
        }
        if (rawPixels) {
            return ModelSource.pixels();
        }
        if (weights != null) {
            if (!Files.isRegularFile(weights)) {
                throw new UserError(weights + ": no such file (--weights)");
            }
            ModelSource src = ModelSource.safetensors(weights, config == null ? null : arch());
            return randomInit ? ModelSource.random(src.config(), seed) : src;
        }
        if (checkpoint != null) {
            ModelSource src = ModelSource.checkpoint(checkpoint);
            return randomInit ? ModelSource.random(src.config(), seed) : src;
        }
        if (randomInit && config != null) {
            return ModelSource.random(arch(), seed);
        }
        throw new UserError(
                "give --checkpoint DIR, --weights FILE, --raw-pixels, or --random-init with --config PRESET");
    }

    private VitConfig arch() {
        return TrainSettings.load(config, List.of()).ssl().backbone();
    }

    /** The cache for a source. */
    FeatureCache cache(ModelSource src) {
        if (noCache) {
            return FeatureCache.none();
        }
        if (cacheDir != null) {
            return FeatureCache.in(cacheDir);
        }
        if (src.type() == ModelSource.Type.RANDOM && checkpoint != null) {
            return FeatureCache.defaultFor(ModelSource.checkpoint(checkpoint));
        }
        return FeatureCache.defaultFor(src);
    }

    /** Features of a source with a progress bar on the terminal. */
    EvalFeatures features(ModelSource src, Progress progress) {
        return new EvalFeatures(src, cache(src), batch, (what, done, total) -> progress.update(done, total, what));
    }

    /** Features of the first {@code trainLimit} training and {@code testLimit} test images (0 = all), with progress. */
    FeatureSet[] trainAndTest(ModelSource src, FeatureKind kind, int trainLimit, int testLimit) {
        Progress p = new Progress("features");
        FeatureSet[] out = new FeatureSet[2];
        EvalDataset train = train(src);
        EvalDataset test = test(src);
        try (EvalFeatures fx = features(src, p)) {
            out[0] = fx.get(train, trainLimit, kind);
            out[1] = fx.get(test, testLimit, kind);
        }
        p.done();
        return out;
    }

    /** The training (reference) set of {@code --train-data} (default Fashion-MNIST), for the source's model. */
    EvalDataset train(ModelSource src) {
        return data.train(src.config());
    }

    /** The test set of {@code --test-data} (default Fashion-MNIST), for the source's model. */
    EvalDataset test(ModelSource src) {
        return data.test(src.config());
    }

    /** The feature kind for a protocol: pixels when --raw-pixels, else the requested one. */
    FeatureKind kind(String requested) {
        if (rawPixels) {
            return FeatureKind.PIXELS;
        }
        try {
            FeatureKind k = FeatureKind.parse(requested);
            if (k == FeatureKind.PIXELS) {
                throw new UserError("--features pixels needs --raw-pixels");
            }
            return k;
        } catch (IllegalArgumentException e) {
            throw new UserError("--features: " + e.getMessage());
        }
    }

    /**
     * Prints the model, the result's table and JSON line (with the data it ran on, {@link DataOptions#withData}), and
     * records the JSON ({@link #record}).
     */
    /** Where the JSON line goes; everything else goes to stderr while {@code --json} holds (null: stdout as usual). */
    private PrintStream jsonOut;

    @Option(
            names = "--json",
            description = "stdout gets only the result's JSON line (the table and notes go to stderr), for scripts")
    void json(boolean on) {
        if (on && jsonOut == null) {
            jsonOut = System.out;
            System.setOut(System.err); // until the command ends: its own lines land on stderr
        }
    }

    void report(ModelSource src, String table, String json) {
        String line = data.withData(json);
        System.out.println("model: " + src.describe());
        System.out.print(table);
        record(src, line);
        if (jsonOut != null) {
            jsonOut.println(line);
            System.setOut(jsonOut);
        } else {
            System.out.println(line);
        }
    }

    /** Appends the result to the run's results log when the source is a checkpoint of a run (unless --no-record). */
    void record(ModelSource src, String json) {
        if (noRecord) {
            return;
        }
        ModelSource owner = src;
        if (src.type() == ModelSource.Type.RANDOM && checkpoint != null) {
            owner = ModelSource.checkpoint(checkpoint);
        }
        Path run = EvalLog.runDirOf(owner);
        if (run != null) {
            Path f = EvalLog.append(run, src, json);
            System.out.println("recorded in " + f);
        }
    }
}
