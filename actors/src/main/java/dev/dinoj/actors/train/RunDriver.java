package dev.dinoj.actors.train;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.DispatcherSelector;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.StashBuffer;
import akka.actor.typed.receptionist.Receptionist;
import dev.dinoj.actors.ClusterMessage;
import dev.dinoj.actors.curate.CurateSpec;
import dev.dinoj.actors.curate.CurationDriver;
import dev.dinoj.actors.curate.CurationView;
import dev.dinoj.actors.data.DataShard;
import dev.dinoj.trainer.config.TrainSettings;
import java.nio.file.Path;
import java.util.Set;

/**
 * Drives one run; a child of the {@link Coordinator}, one per run. It restores what the run directory records, curates
 * first when the run does, waits for the data shards and enough trainer workers, probes them, forms the Aeron world,
 * drives the steps, commits checkpoints in two phases (every rank writes and acknowledges its shard; then the
 * checkpoint is verified and {@code run-state.json} names it) and finishes, each in a behaviour of its own:
 * {@link Curating}, {@link Waiting} (also while re-forming), {@link Probing}, {@link Forming}, {@link Stepping},
 * {@link Checkpointing}, {@link Finishing}. A failure (a worker gone, a failed or silent step) aborts the world: it is
 * re-formed at the next generation with the workers that answer, loads the last committed checkpoint resharded to the
 * new size and resumes at its sample position. When the run has ended the driver tells its parent ({@link Ended}) and
 * stops. The run directory's files go through a {@link RunStore}, off the actor thread.
 */
public final class RunDriver {

    /** Everything a run driver handles. */
    public sealed interface Command {}

    // ---- from the trainer workers (over the wire) ----

    /** A worker's answer to {@link TrainerWorker.Describe}: its Aeron endpoint and node. */
    public record WorkerHello(ActorRef<TrainerWorker.Command> worker, String aeron, String node)
            implements Command, ClusterMessage {}

    public record WorldJoined(int generation, int rank, long step) implements Command, ClusterMessage {}

    /** A rank could not join; {@code kind} is a {@link FailureKind} name. */
    public record WorldFailed(int generation, int rank, String kind, String error) implements Command, ClusterMessage {}

    /**
     * A step's result: losses and, per sample, its stream position, dataset index and object key ("" if none; a skipped
     * image's position has the key of the image that took its place); {@code skipped}: the dataset indices, ascending,
     * of the images over the pixel guard that the data shards skipped in place of this rank's samples (empty: none).
     */
    public record StepDone(
            int generation,
            long step,
            int rank,
            double totalLoss,
            String[] lossNames,
            double[] lossValues,
            long[] positions,
            long[] indices,
            String[] keys,
            long[] skipped,
            double seconds)
            implements Command, ClusterMessage {}

    /** A rank's step failed; {@code kind} is a {@link FailureKind} name. */
    public record StepFailed(int generation, long step, int rank, String kind, String error)
            implements Command, ClusterMessage {}

    public record CheckpointSaved(int generation, long step, int rank, String dir) implements Command, ClusterMessage {}

    /** A rank's checkpoint failed; {@code kind} is a {@link FailureKind} name. */
    public record CheckpointFailed(int generation, long step, int rank, String kind, String error)
            implements Command, ClusterMessage {}

    // ---- from the coordinator (local) ----

    /** The run's status, with the coordinator's queue. */
    public record GetStatus(RunStatus.QueuedRun[] queue, ActorRef<RunStatus> replyTo) implements Command {}

    /** Stops the run after the step in flight; {@code queued} runs wait behind it (for the answer). */
    public record Stop(int queued, ActorRef<Coordinator.Accepted> replyTo) implements Command {}

    /** Checkpoints after the step in flight. */
    public record CheckpointNow(ActorRef<Coordinator.Accepted> replyTo) implements Command {}

    /** Run {@code config} in {@code dir} was queued at {@code position} behind this run: the driver answers. */
    public record Queued(String config, Path dir, int position, ActorRef<Coordinator.Accepted> replyTo)
            implements Command {}

    /**
     * What the driver tells its parent when its run has ended (finished, stopped or failed); it then answers as an
     * ended run until the parent sends {@link Release}.
     */
    public record Ended(RunStatus status) {}

    /**
     * The parent has taken the run's end ({@link Ended}): the driver stops. Until then a status request, stop or
     * submission the parent forwarded before it heard {@link Ended} is still answered (a stopped driver would drop
     * it, and the asker would time out).
     */
    public record Release() implements Command {}

    // ---- the driver's own ----

    record Restored(RunStore.Restored state, Throwable error) implements Command {}

    record Listing(Set<ActorRef<TrainerWorker.Command>> workers) implements Command {}

    record DataInfo(DataShard.Info info, Throwable error) implements Command {}

    record CurationProgress(CurationDriver.Progress progress) implements Command {}

    /** {@code run-state.json} was written for the world of {@code generation} (or not: {@code error}). */
    record Saved(int generation, Throwable error) implements Command {}

    /** The audit line of step {@code step} was appended (or not: {@code error}). */
    record Recorded(int generation, long step, Throwable error) implements Command {}

    /** Phase 2 of the checkpoint of {@code step}: verified and recorded (or not: {@code error}). */
    record Committed(int generation, long step, Path dir, Throwable error) implements Command {}

    enum Tick implements Command {
        ASK_DATA,
        REFORM,
        PROBE_OVER,
        PHASE_TIMEOUT,
        NEXT_STEP
    }

    private static final int STASH = 1000;

    private RunDriver() {}

    /**
     * A driver of run {@code spec} with its loaded {@code settings}.
     *
     * @param generationFloor the last generation the coordinator used (no world of this run reuses one)
     * @param parent          told when the run has ended
     */
    public static Behavior<Command> create(
            RunSpec spec, TrainSettings settings, int generationFloor, ActorRef<Ended> parent) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> Behaviors.withStash(STASH, stash -> {
            ctx.setLoggerName(RunDriver.class); // one logger for all phases
            RunStore store =
                    new RunStore(spec.runDir(), ctx.getSystem().dispatchers().lookup(DispatcherSelector.blocking()));
            RunProgress progress = new RunProgress(
                    settings,
                    spec.totalSteps(settings),
                    spec.checkpointEvery(settings),
                    settings.batchSize(),
                    generationFloor);
            RunContext run = new RunContext(ctx, timers, spec, settings, store, progress, parent);
            ctx.getSystem()
                    .receptionist()
                    .tell(Receptionist.subscribe(
                            TrainerWorker.KEY,
                            ctx.messageAdapter(
                                    Receptionist.Listing.class,
                                    l -> new Listing(l.getServiceInstances(TrainerWorker.KEY)))));
            ctx.pipeToSelf(store.restore(spec.curate()), Restored::new);
            return restoring(run, stash);
        })));
    }

    /** Until the run directory is read, everything else waits in the stash. */
    private static Behavior<Command> restoring(RunContext run, StashBuffer<Command> stash) {
        return Behaviors.receive(Command.class)
                .onMessage(Restored.class, m -> stash.unstashAll(start(run, m)))
                .onAnyMessage(m -> {
                    stash.stash(m);
                    return Behaviors.same();
                })
                .build();
    }

    private static Behavior<Command> start(RunContext run, Restored m) {
        if (m.error() != null) {
            return new Finishing(run, "failed", RunStore.cause(m.error()).getMessage());
        }
        m.state().warnings().forEach(w -> run.log().warn(w));
        RunProgress p = run.progress;
        p.restore(m.state());
        run.log()
                .info(
                        "Coordinator up: run [{}] in [{}], {} steps, checkpoint every {}, {}",
                        run.spec.config(),
                        run.spec.runDir(),
                        p.totalSteps(),
                        run.spec.checkpointEvery(run.settings),
                        p.committedStep() < 0
                                ? "from scratch"
                                : "resuming from step " + p.committedStep() + " (" + p.committedDir() + ")");
        if (!m.state().endPhase().isEmpty()) {
            return new Finishing(run, m.state().endPhase(), m.state().message());
        }
        CurateSpec c = run.spec.curate();
        if (c != null && !m.state().curated()) {
            return new Curating(run);
        }
        if (c != null) {
            run.log().info("Curation of {} already done: training on {}", c.source(), c.dataset());
            run.curation = new CurationView(
                    "done",
                    c.source(),
                    c.dataset(),
                    0,
                    0,
                    0,
                    0,
                    new String[0],
                    new String[0],
                    0,
                    "curated by an earlier coordinator",
                    0);
            run.dataset = c.dataset();
        }
        return Waiting.start(run);
    }
}
