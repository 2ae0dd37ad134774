package dev.dinoj.deploy.cli;

import dev.dinoj.evaluation.knn.KnnResult;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.train.TrainingRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code dinoj demo}: the main job on the embedded default — pretrain the tiny preset on Fashion-MNIST for a few
 * minutes, then k-NN-evaluate the teacher against a randomly initialised backbone and raw pixels.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Pretrain the fmnist-tiny preset (ViT 192x6, DINO + iBOT + KoLeo, Sinkhorn-Knopp) on the "
                + "Fashion-MNIST training images for --minutes, then k-NN-evaluate its teacher against a random "
                + "backbone and raw pixels, and print where everything is and the headline numbers."})
public final class DemoCommand implements Callable<Integer> {

    @Option(names = "--minutes", defaultValue = "6", description = "training time budget (default ${DEFAULT-VALUE})")
    double minutes;

    @Option(names = "--out", defaultValue = "runs/demo", description = "run directory (default ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--eval-train", defaultValue = "10000", description = "training images used as k-NN neighbours (default ${DEFAULT-VALUE}; 0 = all)")
    int evalTrain;

    @Option(names = "--eval-test", defaultValue = "2000", description = "test images evaluated (default ${DEFAULT-VALUE}; 0 = all)")
    int evalTest;

    @Option(names = "--set", description = "override a training key (repeatable)")
    List<String> sets = new ArrayList<>();

    @Option(names = "--fashion-mnist-dir", defaultValue = "/usr/share/datasets/fashion-mnist",
            description = "folder of the Fashion-MNIST IDX files (Debian package dataset-fashion-mnist)")
    Path fmnistDir;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(fmnistDir.resolve("train-images-idx3-ubyte.gz"))
                && !Files.isRegularFile(fmnistDir.resolve("train-images-idx3-ubyte"))) {
            throw new UserError(fmnistDir + ": Fashion-MNIST not found; install it with "
                    + "`sudo apt-get install dataset-fashion-mnist` or pass --fashion-mnist-dir");
        }
        List<String> all = new ArrayList<>(List.of("train.max-minutes=" + minutes,
                "data.fashion-mnist-dir=\"" + fmnistDir + "\""));
        all.addAll(sets);
        TrainSettings s = TrainSettings.load("fmnist-tiny", all);
        System.out.printf(Locale.ROOT, "== 1/2 pretraining fmnist-tiny for %.1f min into %s%n", minutes, out);
        Progress p = new Progress("train");
        TrainingRun.Result r = new TrainingRun(s, out, false, rep -> p.update(rep.step(), rep.totalSteps(),
                String.format(Locale.ROOT, "loss %.4f  %.1f img/s", rep.totalLoss(), rep.imagesPerSecond()))).run();
        p.done();
        var firstSteps = r.steps().subList(0, Math.min(10, r.steps().size()));
        var lastSteps = r.steps().subList(Math.max(0, r.steps().size() - 10), r.steps().size());
        double lossStart = firstSteps.stream().mapToDouble(TrainingRun.StepReport::totalLoss).average().orElse(Double.NaN);
        double lossEnd = lastSteps.stream().mapToDouble(TrainingRun.StepReport::totalLoss).average().orElse(Double.NaN);

        System.out.printf(Locale.ROOT, "== 2/2 k-NN on Fashion-MNIST (%s train neighbours, %s test images)%n",
                evalTrain == 0 ? "all" : evalTrain, evalTest == 0 ? "all" : evalTest);
        int[] ks = {10, 20, 100, 200};
        KnnResult trained = EvalCommand.Knn.run(out, null, false, false, "cls", ks, 0.07, evalTrain, evalTest, fmnistDir, 256, 0);
        KnnResult random = EvalCommand.Knn.run(out, null, true, false, "cls", ks, 0.07, evalTrain, evalTest, fmnistDir, 256, 0);
        KnnResult pixels = EvalCommand.Knn.run(null, null, false, true, "cls", ks, 0.07, evalTrain, evalTest, fmnistDir, 256, 0);

        String summary = String.format(Locale.ROOT,
                "{\"demo\":\"fmnist-tiny\",\"minutes\":%.2f,\"steps\":%d,\"images_seen\":%d,\"loss_first10\":%.4f,"
                        + "\"loss_last10\":%.4f,\"knn_top1_k20\":{\"trained\":%.2f,\"random_init\":%.2f,\"raw_pixels\":%.2f},"
                        + "\"eval_train\":%d,\"eval_test\":%d}",
                r.seconds() / 60, r.endStep(), r.endStep() * s.batchSize(), lossStart, lossEnd, trained.forK(20).top1(),
                random.forK(20).top1(), pixels.forK(20).top1(), trained.nTrain(), trained.nTest());
        Files.writeString(out.resolve("demo-summary.json"), summary + "\n");
        System.out.println();
        System.out.println(trained.toTable());
        System.out.printf(Locale.ROOT, "run directory      %s (config.conf, metrics.jsonl, checkpoints/)%n", out.toAbsolutePath());
        System.out.printf(Locale.ROOT, "trained            %d steps, %d images in %.1f min; loss %.3f -> %.3f%n", r.endStep(),
                r.endStep() * s.batchSize(), r.seconds() / 60, lossStart, lossEnd);
        System.out.printf(Locale.ROOT, "k-NN top-1 (k=20)  trained teacher %.2f %%  |  random init %.2f %%  |  raw pixels %.2f %%%n",
                trained.forK(20).top1(), random.forK(20).top1(), pixels.forK(20).top1());
        System.out.println(summary);
        return 0;
    }
}
