package dev.dinoj.deploy.cli;

import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.trainer.bench.ComputeComparison;
import dev.dinoj.trainer.bench.TrainStepBench;
import dev.dinoj.trainer.config.TrainSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dinoj bench …}: benchmarks that print a table and one JSON line. */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        description = "Benchmarks (a table and a JSON line each).",
        subcommands = {
            BenchCommand.TrainStep.class,
            BenchCollectivesCommand.class,
            BenchCurationCommand.class,
            BenchCurationScaleCommand.class,
            BenchCopyScaleCommand.class,
            BenchDataCommand.class
        })
public final class BenchCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** {@code dinoj bench train-step}. */
    @Command(
            name = "train-step",
            mixinStandardHelpOptions = true,
            description = {
                "Time the DINOv2 training step: images/s, the split augment / forward-backward / optimizer, "
                        + "and model FLOP utilisation against the GEMM peak measured in the same run.",
                "Default: the preset fmnist-tiny (ViT 192x6, patch 4, 2x32 px + 6x16 px crops, batch 64, 4096 "
                        + "prototypes), the configuration the official code was timed with on CPU (docs/PERFORMANCE.md)."
            })
    public static final class TrainStep implements Callable<Integer> {

        @Option(
                names = "--config",
                defaultValue = "fmnist-tiny",
                description = "preset or HOCON file (default ${DEFAULT-VALUE})")
        String config;

        @Option(names = "--set", description = "override a key (repeatable)")
        List<String> sets = new ArrayList<>();

        @Option(
                names = "--device",
                description =
                        "cpu | cuda | cuda:N (same as --set device=…; with --ranks, cuda = each rank's local GPU)")
        String device;

        @Option(names = "--steps", defaultValue = "10", description = "measured steps (default ${DEFAULT-VALUE})")
        int steps;

        @Option(
                names = "--warmup",
                defaultValue = "3",
                description = "unmeasured first steps (default ${DEFAULT-VALUE})")
        int warmup;

        @Option(
                names = "--ranks",
                description = "run the sharded step in N rank JVMs on this host (dinoj.collectives "
                        + "settings: IPC, overlap on); reports compute, time blocked in communication and the overhead")
        Integer ranks;

        @Option(
                names = "--compare-overlap",
                description = "with --ranks: overlap off in even steps and on in odd steps "
                        + "of the same ranks (same machine load), a report for each (--steps each)")
        boolean compareOverlap;

        @Option(
                names = "--compare-precision",
                description =
                        "run the step in fp32 and in bf16 (train.precision) in this process on the same "
                                + "batches, the two interleaved; a table with both rows and the bf16/fp32 ratio, and one JSON line")
        boolean comparePrecision;

        @Option(
                names = "--compare-attention",
                description = "as --compare-precision, for model.attention manual against sdpa (in train.precision)")
        boolean compareAttention;

        @Override
        public Integer call() throws Exception {
            if (device != null) {
                sets.add("device=" + device);
            }
            TrainSettings.load(config, sets).device().resolve(ranks == null ? 0 : ranks - 1); // one line, exit 2
            if ((comparePrecision || compareAttention) && ranks != null) {
                throw new IllegalArgumentException(
                        "bench train-step: --compare-precision/--compare-attention run in one process; "
                                + "drop --ranks");
            }
            if (comparePrecision && compareAttention) {
                throw new IllegalArgumentException(
                        "bench train-step: --compare-precision or --compare-attention, not both");
            }
            if (comparePrecision || compareAttention) {
                TrainSettings s = TrainSettings.load(config, sets);
                ComputeComparison.Result r = comparePrecision
                        ? ComputeComparison.precisions(config, s, s.openDataset(), warmup, steps)
                        : ComputeComparison.attentions(config, s, s.openDataset(), warmup, steps);
                System.out.print(r.table());
                System.out.println(r.json());
                return 0;
            }
            if (ranks != null) {
                return ShardedTrainStep.call(config, sets, ranks, warmup, steps, compareOverlap);
            }
            TrainSettings s = TrainSettings.load(config, sets);
            ImageDataset data = s.openDataset();
            TrainStepBench.Result r = TrainStepBench.run(config, s, data, warmup, steps);
            System.out.print(r.table());
            System.out.println(r.json());
            return 0;
        }
    }
}
