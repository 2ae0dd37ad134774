package dev.dinoj.deploy.cli;

import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.train.TrainingRun;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code dinoj train --config FILE [--set k=v …] --out DIR [--resume]}. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Pretrain a ViT with the DINOv2 recipe in this JVM.",
                "Writes DIR/config.conf (resolved), DIR/metrics.jsonl and DIR/checkpoints/step-N (atomic, checksummed)."})
public final class TrainCommand implements Callable<Integer> {

    @Option(names = "--config", description = "HOCON file or preset name (" + "fmnist-tiny, fmnist-pico" + "); "
            + "defaults: trainer/src/main/resources/reference.conf")
    String config;

    @Option(names = "--set", description = "override a key, e.g. --set optim.base-lr=0.002 (repeatable)")
    List<String> sets = new ArrayList<>();

    @Option(names = "--out", required = true, description = "run directory")
    Path out;

    @Option(names = "--resume", description = "continue from the newest checkpoint in --out (same data stream)")
    boolean resume;

    @Option(names = "--ranks", description = {"train with the sharded (FSDP-like) step in N rank JVMs on this host, "
            + "Aeron collectives between them (dinoj.collectives.*; docs/COLLECTIVES.md); sharded checkpoints that "
            + "--resume continues with any number of ranks and eval/export read; rank logs in DIR/ranks"})
    Integer ranks;

    @Override
    public Integer call() throws Exception {
        TrainSettings settings = TrainSettings.load(config, sets);
        Progress progress = new Progress("train");
        TrainingRun.Listener listener = rep -> progress.update(rep.step(), rep.totalSteps(),
                String.format(java.util.Locale.ROOT, "loss %.4f  %.1f img/s", rep.totalLoss(), rep.imagesPerSecond()));
        TrainingRun.Result r = ranks != null
                ? dev.dinoj.trainer.collective.sharded.ShardedTrainingRun.launch(config, sets, out, resume, ranks, listener)
                : new TrainingRun(settings, out, resume, listener).run();
        progress.done();
        System.out.printf("trained steps %d..%d in %.0f s; last checkpoint: %s%n", r.startStep(), r.endStep(), r.seconds(),
                r.lastCheckpoint());
        return 0;
    }
}
