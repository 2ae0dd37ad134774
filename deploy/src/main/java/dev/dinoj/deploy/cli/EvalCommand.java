package dev.dinoj.deploy.cli;

import ai.djl.ndarray.NDManager;
import dev.dinoj.evaluation.features.FeatureExtractor;
import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.evaluation.knn.KnnEvaluator;
import dev.dinoj.evaluation.knn.KnnResult;
import dev.dinoj.pipeline.data.IdxDataset;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.model.Backbones;
import dev.dinoj.trainer.model.VitConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code dinoj eval …}: evaluation protocols on frozen features. */
@Command(name = "eval", mixinStandardHelpOptions = true, description = "Evaluate frozen features.",
        subcommands = {EvalCommand.Knn.class, EvalLinearCommand.class, EvalLogregCommand.class, EvalRetrievalCommand.class,
                EvalDenseCommand.class, EvalRobustnessCommand.class})
public final class EvalCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** {@code dinoj eval knn}. */
    @Command(name = "knn", mixinStandardHelpOptions = true,
            description = {"Weighted k-NN (dinov2/eval/knn.py: T = 0.07, k in {10, 20, 100, 200}) of the teacher "
                    + "backbone's L2-normalised CLS features, Fashion-MNIST test images against the training images.",
                    "Prints a table and one JSON line."})
    public static final class Knn implements Callable<Integer> {

        @Option(names = "--checkpoint", description = "checkpoint directory (step-N) or run directory (its newest)")
        Path checkpoint;

        @Option(names = "--random-init", description = "evaluate a randomly initialised backbone of the same "
                + "architecture (of --checkpoint, or of --config)")
        boolean randomInit;

        @Option(names = "--raw-pixels", description = "evaluate raw pixels (resized and normalised) instead of a model")
        boolean rawPixels;

        @Option(names = "--config", description = "preset or HOCON file for --random-init without --checkpoint")
        String config;

        @Option(names = "--features", defaultValue = "cls", description = "cls | cls+avgpool (default ${DEFAULT-VALUE})")
        String features;

        @Option(names = "--ks", split = ",", defaultValue = "10,20,100,200", description = "k values (default ${DEFAULT-VALUE})")
        int[] ks;

        @Option(names = "--temperature", defaultValue = "0.07", description = "T of the weighted vote (default ${DEFAULT-VALUE})")
        double temperature;

        @Option(names = "--train-limit", defaultValue = "0", description = "use only the first N training images (0 = all 60000)")
        int trainLimit;

        @Option(names = "--test-limit", defaultValue = "0", description = "use only the first N test images (0 = all 10000)")
        int testLimit;

        @Option(names = "--fashion-mnist-dir", defaultValue = "/usr/share/datasets/fashion-mnist",
                description = "folder of the Fashion-MNIST IDX files (default ${DEFAULT-VALUE})")
        Path fmnistDir;

        @Option(names = "--batch", defaultValue = "256", description = "images per forward pass (default ${DEFAULT-VALUE})")
        int batch;

        @Option(names = "--seed", defaultValue = "0", description = "seed of --random-init")
        long seed;

        @Override
        public Integer call() {
            KnnResult r = run(checkpoint, config, randomInit, rawPixels, features, ks, temperature, trainLimit, testLimit,
                    fmnistDir, batch, seed);
            System.out.println(r.toTable());
            System.out.println(r.toJson());
            return 0;
        }

        /** The k-NN evaluation as the CLI runs it (the demo reuses it). */
        static KnnResult run(Path checkpoint, String config, boolean randomInit, boolean rawPixels, String features,
                             int[] ks, double temperature, int trainLimit, int testLimit, Path fmnistDir, int batch,
                             long seed) {
            if (checkpoint == null && !rawPixels && !(randomInit && config != null)) {
                throw new UserError("give --checkpoint DIR, or --raw-pixels, or --random-init with --config PRESET");
            }
            FeatureExtractor.Kind kind = rawPixels ? FeatureExtractor.Kind.PIXELS : switch (features) {
                case "cls" -> FeatureExtractor.Kind.CLS;
                case "cls+avgpool" -> FeatureExtractor.Kind.CLS_AVGPOOL;
                default -> throw new UserError("--features " + features + ": use cls or cls+avgpool");
            };
            ImageDataset train = IdxDataset.fashionMnist(fmnistDir, true);
            ImageDataset test = IdxDataset.fashionMnist(fmnistDir, false);
            try (NDManager manager = NDManager.newBaseManager()) {
                Backbones.Loaded model = null;
                int size;
                if (rawPixels) {
                    size = train.image(0).width();
                } else {
                    VitConfig vit;
                    if (checkpoint != null) {
                        model = Backbones.teacherFromCheckpoint(checkpoint, manager);
                        vit = model.config();
                        if (randomInit) {
                            model.close();
                            model = Backbones.random(vit, seed, manager);
                        }
                    } else {
                        vit = TrainSettings.load(config, List.of()).ssl().backbone();
                        model = Backbones.random(vit, seed, manager);
                    }
                    size = vit.imgSize();
                }
                FeatureExtractor fx = new FeatureExtractor(model == null ? null : model.model(), size, kind, batch);
                Progress p = new Progress("features");
                int nTrain = trainLimit > 0 ? Math.min(trainLimit, train.size()) : train.size();
                int nTest = testLimit > 0 ? Math.min(testLimit, test.size()) : test.size();
                FeatureSet trainF = fx.extract(train, nTrain, manager, d -> p.update(d, nTrain + nTest, "train"));
                FeatureSet testF = fx.extract(test, nTest, manager, d -> p.update(nTrain + d, nTrain + nTest, "test"));
                p.done();
                if (model != null) {
                    model.close();
                }
                KnnEvaluator knn = KnnEvaluator.builder().optKs(ks).optTemperature(temperature).build();
                return knn.evaluate(trainF, testF);
            }
        }
    }
}
