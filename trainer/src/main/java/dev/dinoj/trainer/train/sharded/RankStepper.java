package dev.dinoj.trainer.train.sharded;

import ai.djl.ndarray.NDManager;
import dev.dinoj.pipeline.masking.CollatedBatch;
import dev.dinoj.trainer.checkpoint.CheckpointException;
import dev.dinoj.trainer.checkpoint.ShardedCheckpoints;
import dev.dinoj.trainer.collective.Communicator;
import dev.dinoj.trainer.collective.ReduceOp;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.schedule.Schedules;
import dev.dinoj.trainer.train.StepBatch;
import dev.dinoj.trainer.train.StepRandom;
import dev.dinoj.trainer.train.TrainLoop;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * One rank's side of the {@link TrainLoop}: the sharded step on the rank's part of every global batch, sharded
 * checkpoints (collective, loadable with any number of ranks), and a stop that every rank agrees on.
 */
final class RankStepper implements TrainLoop.Stepper {

    /** The prefix of a log line that rank 0 relays to the launcher through stdout. */
    static final String LOG = "LOG ";
    /** The prefix of a warning that rank 0 relays to the launcher through stdout. */
    static final String WARN = "WARN ";

    private final TrainSettings settings;
    private final ShardedTrainer trainer;
    private final NDManager manager;
    private final boolean resume;
    private final Communicator comm;
    private Path resumedFrom;

    RankStepper(TrainSettings settings, ShardedTrainer trainer, NDManager manager, boolean resume) {
        this.settings = settings;
        this.trainer = trainer;
        this.manager = manager;
        this.resume = resume;
        this.comm = trainer.communicator();
    }

    @Override
    public TrainLoop.Resumed resume(Path out) {
        if (!resume) {
            return TrainLoop.Resumed.START;
        }
        boolean lead = comm.rank() == 0;
        Optional<ShardedCheckpoints.Loaded> loaded =
                ShardedCheckpoints.loadNewestVerified(out, trainer, lead ? RankStepper::warn : w -> {});
        long step = loaded.map(l -> l.state().step()).orElse(-1L);
        double[] agreed = {step, -step};
        comm.allReduce(agreed, ReduceOp.MAX);
        if (agreed[0] != -agreed[1]) { // every rank verified the same files, but one read them differently
            throw new CheckpointException(out.resolve(ShardedCheckpoints.DIR) + ": the ranks found different newest "
                    + "checkpoints that verify (this rank: " + (step < 0 ? "none" : "step " + step)
                    + "); resume again");
        }
        if (loaded.isEmpty()) {
            if (lead) {
                say("--resume: no checkpoint in " + out.resolve(ShardedCheckpoints.DIR) + ", starting from scratch");
            }
            return TrainLoop.Resumed.START;
        }
        resumedFrom = loaded.get().dir();
        ShardedCheckpoints.State st = loaded.get().state();
        if (lead) {
            if (!st.config().equals(settings.render())) {
                say("Resuming " + resumedFrom + " with a configuration that differs from the "
                        + "checkpoint's; the run will not match an uninterrupted one");
            }
            say("Resuming from " + resumedFrom + " at step " + st.step() + " (written by " + st.worldSize()
                    + " rank(s), now " + comm.size() + ")");
        }
        return new TrainLoop.Resumed(st.step(), st.samplerPosition());
    }

    /** The checkpoint resumed from (not a newer one that did not verify); else the newest one, if any. */
    @Override
    public Path latestCheckpoint(Path out) {
        return resume ? resumedFrom : ShardedCheckpoints.latest(out).orElse(null);
    }

    @Override
    public TrainLoop.StepOutcome step(long step, CollatedBatch batch, Schedules.Values v) {
        ShardedTrainer.StepResult res;
        try (NDManager stepManager = manager.newSubManager()) {
            res = trainer.step(step, StepBatch.of(stepManager, batch), v, StepRandom.forStep(settings.seed(), step));
        }
        return new TrainLoop.StepOutcome(
                res.losses(),
                res.totalLoss(),
                res.gradNorms(),
                String.format(
                        Locale.ROOT,
                        "  (%d ranks, blocked in communication %.3f s of %.3f s)",
                        comm.size(),
                        res.communicationSeconds(),
                        res.stepSeconds()));
    }

    @Override
    public Path checkpoint(Path out, long steps, long samplerPosition) {
        return ShardedCheckpoints.save(
                out,
                trainer,
                new ShardedCheckpoints.State(
                        steps, samplerPosition, 0, settings.seed(), settings.render(), comm.size()),
                settings.checkpoint().keepLast());
    }

    /** Every rank stops after the same step: the time limit, or SIGTERM/Ctrl-C on any rank. */
    @Override
    public boolean[] agreeToStop(boolean timeUp, boolean signalled) {
        double[] flags = {timeUp ? 1 : 0, signalled ? 1 : 0};
        comm.allReduce(flags, ReduceOp.MAX);
        return new boolean[] {flags[0] > 0 || flags[1] > 0, flags[1] > 0};
    }

    /** The fitted schedule length: every rank takes the smallest rank's proposal (an all-reduce, every rank calls). */
    @Override
    public long agreeOnMinimum(long value) {
        double[] v = {value};
        comm.allReduce(v, ReduceOp.MIN);
        return (long) v[0]; // exact below 2^53; Long.MAX_VALUE comes back saturated as itself
    }

    @Override
    public void finish() {
        comm.barrier();
    }

    /** A log line relayed by the launcher (rank 0 only). */
    static void say(String line) {
        System.out.println(LOG + line);
        System.out.flush();
    }

    /** A warning relayed by the launcher (rank 0 only). */
    static void warn(String line) {
        System.out.println(WARN + line);
        System.out.flush();
    }
}
