package dev.dinoj.deploy.cli;

import com.typesafe.config.ConfigFactory;
import dev.dinoj.trainer.checkpoint.Checkpoints;
import dev.dinoj.trainer.config.SslConfig;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.train.TrainLoop;
import dev.dinoj.trainer.train.TrainingRun;
import dev.dinoj.trainer.train.sharded.ShardedTrainingRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dinoj distill --teacher SRC --student-preset P [--config F] [--set k=v …] --out DIR [--resume] [--ranks N]}. */
@Command(
        name = "distill",
        mixinStandardHelpOptions = true,
        description = {
            "Distil a frozen teacher into a smaller student (the DINOv2 paper's recipe for ViT-S/B/L from "
                    + "ViT-g): the teacher's own DINO/iBOT heads give the targets, the student trains on unmasked crops "
                    + "without stochastic depth with iBOT on every patch of the two global crops, and a spare EMA of the "
                    + "student is the final model (the checkpoints' teacher.safetensors: dinoj eval … --checkpoint DIR and "
                    + "dinoj export use it).",
            "Same outputs as train: DIR/config.conf, DIR/metrics.jsonl, DIR/checkpoints/step-N; "
                    + "DIR/distill-teacher.sha256 records the teacher."
        })
public final class DistillCommand implements Callable<Integer> {

    @Option(
            names = "--teacher",
            required = true,
            description = "dinoj checkpoint (step-N or run directory) or safetensors file (teacher.safetensors of a "
                    + "checkpoint, or published backbone weights in the dinov2 hub, transformers or timm layout, the "
                    + "architecture read from the file: then also --set distill.missing-teacher-heads=random)")
    Path teacher;

    @Option(
            names = "--student-preset",
            required = true,
            description = "the student's preset or HOCON file " + "(fmnist-tiny, fmnist-pico, …)")
    String studentPreset;

    @Option(names = "--config", description = "HOCON file applied over the student preset")
    String config;

    @Option(names = "--set", description = "override a key, e.g. --set optim.base-lr=0.002 (repeatable)")
    List<String> sets = new ArrayList<>();

    @Option(names = "--minutes", description = "stop after this many minutes (train.max-minutes), with a checkpoint")
    Double minutes;

    @Option(names = "--out", required = true, description = "run directory")
    Path out;

    @Option(names = "--resume", description = "continue from the newest checkpoint in --out (same data stream)")
    boolean resume;

    @Option(
            names = "--ranks",
            description = {
                "distil with the sharded (FSDP-like) step in N rank JVMs on this host, "
                        + "as train --ranks: batch-size / N images per rank, the frozen teacher and the spare EMA replicated on "
                        + "every rank; rank logs in DIR/ranks"
            })
    Integer ranks;

    @Override
    public Integer call() throws Exception {
        List<String> configs = config == null ? List.of(studentPreset) : List.of(studentPreset, config);
        List<String> all = sets(teacher, sets, minutes);
        TrainSettings settings = TrainSettings.load(configs, all);
        Progress progress = new Progress("distill");
        TrainLoop.Listener listener = rep -> progress.update(
                rep.step(),
                rep.totalSteps(),
                String.format(Locale.ROOT, "loss %.4f  %.1f img/s", rep.totalLoss(), rep.imagesPerSecond()));
        TrainLoop.Result r = ranks != null
                ? ShardedTrainingRun.launch(configs, all, out, resume, ranks, listener)
                : new TrainingRun(settings, out, resume, listener).run();
        progress.done();
        System.out.printf(
                "distilled steps %d..%d in %.0f s; last checkpoint: %s (its teacher.safetensors is the "
                        + "student's spare EMA)%n",
                r.startStep(), r.endStep(), r.seconds(), r.lastCheckpoint());
        return 0;
    }

    /**
     * The overrides of a distillation run, in order: the teacher's prototype counts (from a checkpoint teacher's
     * config; the student's heads must match them), no stochastic depth, then the user's {@code --set}s (a non-zero
     * drop-path rate among them is rejected by the settings), then the teacher and the time limit.
     */
    static List<String> sets(Path teacher, List<String> user, Double minutes) {
        List<String> all = new ArrayList<>();
        if (Files.isDirectory(teacher)) {
            Checkpoints.State st = Checkpoints.peek(Checkpoints.resolve(teacher));
            SslConfig t = TrainSettings.fromConfig(ConfigFactory.parseString(st.config())
                            .withFallback(ConfigFactory.parseResources(
                                    DistillCommand.class.getClassLoader(), "reference.conf")))
                    .ssl();
            all.add("dino.head-n-prototypes=" + t.dinoHead().prototypes());
            if (t.separateIbotHead()) {
                all.add("ibot.separate-head=true");
                all.add("ibot.head-n-prototypes=" + t.ibotHead().prototypes());
            } else {
                all.add("ibot.separate-head=false");
            }
        }
        all.add("model.drop-path-rate=0");
        all.addAll(user);
        all.add("distill.teacher=" + quote(teacher.toAbsolutePath().toString()));
        if (minutes != null) {
            all.add("train.max-minutes=" + minutes);
        }
        return all;
    }

    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
