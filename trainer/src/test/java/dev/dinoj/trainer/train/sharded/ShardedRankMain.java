package dev.dinoj.trainer.train.sharded;

import ai.djl.ndarray.NDManager;
import dev.dinoj.trainer.checkpoint.ShardedCheckpoints;
import dev.dinoj.trainer.collective.CollectiveSettings;
import dev.dinoj.trainer.collective.Communicator;
import dev.dinoj.trainer.collective.RankMain;
import dev.dinoj.trainer.collective.WireFormat;
import dev.dinoj.trainer.collective.World;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.io.Safetensors;
import dev.dinoj.trainer.optim.FlatLayout;
import dev.dinoj.trainer.train.SslMetaArch;
import dev.dinoj.trainer.train.StepBatch;
import dev.dinoj.trainer.train.StepRandom;
import dev.dinoj.trainer.train.TrainingRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A training rank in a JVM of its own (DJL allows one gradient collector per JVM, so ranks that train are processes):
 * {@code MODE RANK WORLD SETTINGS OWN_DRIVER OUT_DIR [STEPS]} with MODE
 * <ul>
 *   <li>{@code train}: STEPS steps of {@link ShardedFixture#settings}, then {@code rank-R-student.safetensors},
 *       {@code rank-R-teacher.safetensors}, {@code rank-R-losses.txt};</li>
 *   <li>{@code train-overlap}: the same with the gradient reduce-scatter overlapped with the backward;
 *       {@code train-overlap-ckpt}: and with activation checkpointing;</li>
 *   <li>{@code train-gram}, {@code train-distill}: {@code train} with Gram anchoring ({@link ShardedFixture#GRAM}) /
 *       distillation from {@link ShardedFixture#teacherFile} (the "teacher" file is then the spare EMA);</li>
 *   <li>{@code save}: STEPS steps, a sharded checkpoint in OUT_DIR, and {@code snapshot-save-R.safetensors};</li>
 *   <li>{@code load}: loads the newest checkpoint of OUT_DIR, writes {@code snapshot-load-N-R.safetensors}, then runs
 *       one more step.</li>
 * </ul>
 */
public final class ShardedRankMain {

    private ShardedRankMain() {}

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        int rank = Integer.parseInt(args[1]);
        World world = World.fromEnvironment(args[2], Integer.parseInt(args[3]));
        CollectiveSettings cs = CollectiveSettings.decode(args[4]);
        boolean ownDriver = Boolean.parseBoolean(args[5]);
        Path out = Path.of(args[6]);
        int steps = args.length > 7 ? Integer.parseInt(args[7]) : 0;
        RankMain.runAndHalt(world, rank, cs, ownDriver, comm -> run(mode, comm, out, steps), t -> 1);
    }

    private static void run(String mode, Communicator comm, Path out, int stepsArg) throws Exception {
        int rank = comm.rank();
        int steps = stepsArg;
        try (NDManager manager = NDManager.newBaseManager()) {
            TrainSettings s = ShardedFixture.settings(mode, out);
            RankBatches rb = ShardedFixture.batches(s, comm.size());
            try (SslMetaArch model = "load".equals(mode)
                    ? SslMetaArch.create(manager, s.ssl(), s.seed() + 99) // load must overwrite everything
                    : TrainingRun.createModel(s, manager)) {
                boolean overlap = mode.startsWith("train-overlap");
                model.setActivationCheckpointing(s.loop().activationCheckpointing());
                ShardedTrainer trainer = new ShardedTrainer(model, comm, WireFormat.F32, overlap);
                int first = 0;
                if ("load".equals(mode)) {
                    ShardedCheckpoints.State st = ShardedCheckpoints.load(out, trainer);
                    first = (int) st.step();
                    steps = first + 1;
                    Safetensors.write(
                            out.resolve("snapshot-load-" + comm.size() + "-" + rank + ".safetensors"),
                            snapshot(trainer),
                            Map.of(
                                    "lo",
                                    Integer.toString(trainer.optimizer().lo()),
                                    "optimizer_steps",
                                    Long.toString(trainer.optimizer().stepCount()),
                                    "step",
                                    Long.toString(st.step()),
                                    "world_size",
                                    Integer.toString(st.worldSize())));
                }
                List<String> losses = new ArrayList<>();
                for (int step = first; step < steps; step++) {
                    try (NDManager m = manager.newSubManager()) {
                        ShardedTrainer.StepResult r = trainer.step(
                                step,
                                StepBatch.of(m, rb.batch(step, rank)),
                                s.schedules().at(step),
                                StepRandom.forStep(s.seed(), step));
                        losses.add(Double.toString(r.totalLoss()));
                    }
                }
                comm.barrier();
                if (overlap
                        && trainer.bucketsLaunchedDuringBackward()
                                != (long) (steps - first) * (s.ssl().backbone().depth() + 1)) {
                    throw new IllegalStateException(
                            "overlap requested but only " + trainer.bucketsLaunchedDuringBackward()
                                    + " gradient buckets were launched during the backward");
                }
                trainer.close();
                if (mode.startsWith("train")) {
                    Safetensors.write(
                            out.resolve("rank-" + rank + "-student.safetensors"),
                            model.student().toHost(),
                            Map.of());
                    Safetensors.write(
                            out.resolve("rank-" + rank + "-teacher.safetensors"),
                            model.ema().toHost(),
                            Map.of());
                    Files.write(out.resolve("rank-" + rank + "-losses.txt"), losses);
                } else if ("save".equals(mode)) {
                    ShardedCheckpoints.save(
                            out,
                            trainer,
                            new ShardedCheckpoints.State(
                                    steps, rb.positionAfter(steps - 1), 0, s.seed(), s.render(), comm.size()),
                            2);
                    Safetensors.write(
                            out.resolve("snapshot-save-" + rank + ".safetensors"),
                            snapshot(trainer),
                            Map.of(
                                    "lo",
                                    Integer.toString(trainer.optimizer().lo()),
                                    "optimizer_steps",
                                    Long.toString(trainer.optimizer().stepCount())));
                } else {
                    for (String l : losses) {
                        if (!Double.isFinite(Double.parseDouble(l))) {
                            throw new IllegalStateException("loss after the load is " + l);
                        }
                    }
                }
            }
        }
    }

    /** Flat student and teacher, this rank's moments, the dino center. */
    static Map<String, NpyArray> snapshot(ShardedTrainer t) {
        FlatLayout layout = t.layout();
        Map<String, NpyArray> out = new LinkedHashMap<>();
        int n = layout.total();
        out.put(
                "student",
                NpyArray.ofFloats(
                        "student", new long[] {n}, layout.readRange(t.model().student(), 0, n)));
        out.put(
                "teacher",
                NpyArray.ofFloats(
                        "teacher", new long[] {n}, layout.readRange(t.model().teacher(), 0, n)));
        float[] m = t.optimizer().expAvgHost();
        float[] v = t.optimizer().expAvgSqHost();
        out.put("exp_avg", NpyArray.ofFloats("exp_avg", new long[] {m.length}, m));
        out.put("exp_avg_sq", NpyArray.ofFloats("exp_avg_sq", new long[] {v.length}, v));
        float[] c = t.model().dinoCenter().centerHost();
        out.put("dino_center", NpyArray.ofFloats("dino_center", new long[] {c.length}, c));
        return out;
    }
}
