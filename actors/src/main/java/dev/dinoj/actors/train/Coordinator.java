package dev.dinoj.actors.train;

import com.typesafe.config.Config;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import akka.actor.typed.receptionist.Receptionist;
import akka.cluster.sharding.typed.javadsl.ClusterSharding;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.actors.ClusterMessage;
import dev.dinoj.actors.curate.CurateSpec;
import dev.dinoj.actors.curate.CurationDriver;
import dev.dinoj.actors.curate.CurationView;
import dev.dinoj.actors.data.DataShard;
import dev.dinoj.trainer.collective.sharded.ShardedCheckpoints;
import dev.dinoj.trainer.config.TrainSettings;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The coordinator of the run: a cluster singleton. It waits for trainer workers (receptionist), forms the Aeron world
 * from those that answer, drives the steps (per-step schedules: lr, wd, momentum, teacher temperature, last-layer lr,
 * resolution phase), keeps the global sampler position, collects per-step stats, and commits checkpoints in two
 * phases: every rank writes and acknowledges its shard (the collective save, whose manifest is written only after
 * all shards are acknowledged), then the coordinator commits {@code run-state.json} pointing at it. A failure (a
 * worker gone, a failed or silent step) aborts the step: the world is re-formed at the next generation with the
 * workers that answer, loads the last committed checkpoint resharded to the new size and resumes at its sample
 * position. A coordinator that starts elsewhere (the singleton moved) resumes the same way from {@code run-state.json}.
 */
public final class Coordinator extends AbstractBehavior<Coordinator.Command> {

    public interface Command {
    }

    public record WorkerHello(ActorRef<TrainerWorker.Command> worker, String aeron, String node)
            implements Command, ClusterMessage {
    }

    public record WorldJoined(int generation, int rank, long step) implements Command, ClusterMessage {
    }

    public record WorldFailed(int generation, int rank, String error) implements Command, ClusterMessage {
    }

    /** A step's result: losses and, per sample, its stream position, dataset index and object key ("" if none). */
    public record StepDone(int generation, long step, int rank, double totalLoss, String[] lossNames, double[] lossValues,
                           long[] positions, long[] indices, String[] keys, double seconds)
            implements Command, ClusterMessage {
    }

    public record StepFailed(int generation, long step, int rank, String error) implements Command, ClusterMessage {
    }

    public record CheckpointSaved(int generation, long step, int rank, String dir) implements Command, ClusterMessage {
    }

    public record CheckpointFailed(int generation, long step, int rank, String error) implements Command, ClusterMessage {
    }

    public record GetStatus(ActorRef<RunStatus> replyTo) implements Command, ClusterMessage {
    }

    /** Stops the run after the step in flight (no further steps; the last committed checkpoint stays). */
    public record Stop(ActorRef<Accepted> replyTo) implements Command, ClusterMessage {
    }

    /** Checkpoints after the step in flight. */
    public record CheckpointNow(ActorRef<Accepted> replyTo) implements Command, ClusterMessage {
    }

    /** Submits a run (config file or preset, --set overrides, run directory, steps, checkpoint-every; 0 = the
     *  config's; a curation to run first, or null): it starts at once on an idle coordinator, else it is queued and
     *  starts when the runs before it have ended (refused when the node config fixes the run). */
    public record Submit(String config, String[] sets, String dir, long steps, int checkpointEvery, CurateSpec curate,
                         ActorRef<Accepted> replyTo) implements Command, ClusterMessage {
    }

    /** Takes the queued run of run directory {@code dir} out of the queue before it starts. */
    public record Cancel(String dir, ActorRef<Accepted> replyTo) implements Command, ClusterMessage {
    }

    public record Accepted(boolean ok, String message) implements ClusterMessage {
    }

    private record Listing(Set<ActorRef<TrainerWorker.Command>> workers) implements Command {
    }

    /** The data shards' answer for dataset spec {@code asked} (a reply to an earlier run's question is dropped). */
    private record DataInfo(String asked, DataShard.Info info, Throwable error) implements Command {
    }

    private record ProbeOver(int probe) implements Command {
    }

    private record PhaseTimeout(int generation, long phase) implements Command {
    }

    private record NextStep(int generation, long step) implements Command {
    }

    private record Curating(CurationDriver.Progress progress) implements Command {
    }

    private enum Tick implements Command { ASK_DATA, REFORM, NEXT_RUN }

    private enum Phase {
        IDLE, CURATING, FAILED, WAITING, PROBING, FORMING, STEPPING, CHECKPOINTING, REFORMING, FINISHED, STOPPED
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int RECENT = 200;

    public static Behavior<Command> create(RunSpec spec) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new Coordinator(ctx, timers, spec)));
    }

    private final TimerScheduler<Command> timers;
    private RunSpec spec;
    private TrainSettings settings;
    private long totalSteps;
    private int checkpointEvery;
    private Phase phase;
    private Set<ActorRef<TrainerWorker.Command>> listed = new HashSet<>();
    private final Map<ActorRef<TrainerWorker.Command>, WorkerHello> hellos = new HashMap<>();
    private final List<WorkerHello> world = new ArrayList<>();
    private final Set<Integer> pending = new HashSet<>();
    private final List<StepDone> stepReplies = new ArrayList<>();
    private final ArrayDeque<Double> recent = new ArrayDeque<>();
    private DataShard.Info data;
    private int probe;
    private long phaseId;
    private int generation;
    private long step;
    private long committedStep = -1;
    private String committedDir = "";
    private boolean checkpointRequested;
    private boolean stopRequested;
    private String message = "";
    private int restarts;
    private String[] lossNames = new String[0];
    private double[] lossValues = new double[0];
    private CurationView curation = CurationView.none();
    /** The dataset spec the data shards serve for this run ("" = the one of their node config). */
    private String dataset = "";
    private ActorRef<CurationDriver.Command> curationDriver;
    /** Where an accepted submission is kept for the next coordinator (null = not kept). */
    private final Path stateDir;
    /** This node's config (the storage of kept submissions and the defaults of submitted runs). */
    private final Config node;
    /** Whether the node config fixes the run ({@code coordinator.run.config}); then nothing can be submitted. */
    private final boolean configured;
    /** Whether this run formed a world before (here or under an earlier coordinator): then it re-forms with anyone. */
    private boolean formedBefore;
    private boolean subscribed;
    /** Submitted runs waiting for the current one to end, in order (kept in the state folder as well). */
    private final ArrayDeque<RunSpec> queue = new ArrayDeque<>();
    /** Most runs the queue takes ({@code dinoj.actors.coordinator.max-queued}). */
    private final int maxQueued;

    private Coordinator(ActorContext<Command> ctx, TimerScheduler<Command> timers, RunSpec spec) {
        super(ctx);
        this.timers = timers;
        this.spec = spec;
        this.node = ctx.getSystem().settings().config();
        this.stateDir = SubmittedRuns.stateDir(node);
        this.configured = spec.hasRun();
        this.maxQueued = node.getInt("dinoj.actors.coordinator.max-queued");
        if (!spec.hasRun()) {
            try {
                queue.addAll(SubmittedRuns.loadQueue(stateDir, node));
            } catch (RuntimeException e) {
                ctx.getLog().warn("Cannot read the runs queued earlier ({}): {}", stateDir.resolve(SubmittedRuns.QUEUE_FILE),
                        e.getMessage());
            }
            RunSpec submitted = null;
            try {
                submitted = SubmittedRuns.load(stateDir, node);
            } catch (RuntimeException e) {
                ctx.getLog().warn("Cannot resume the run submitted earlier ({}): {}", stateDir.resolve(SubmittedRuns.FILE),
                        e.getMessage());
            }
            if (submitted != null) {
                this.spec = submitted;
                ctx.getLog().info("Taking over the run submitted earlier ({})", stateDir.resolve(SubmittedRuns.FILE));
                startRun();
                return;
            }
        }
        if (!spec.hasRun()) {
            settings = null;
            totalSteps = 0;
            checkpointEvery = 0;
            phase = Phase.IDLE;
            message = "no run configured (dinoj.actors.coordinator.run.config is empty)";
            ctx.getLog().info("Coordinator up without a run{}", queue.isEmpty() ? "" : "; " + queue.size() + " queued");
            if (!queue.isEmpty()) {
                ctx.getSelf().tell(Tick.NEXT_RUN);                // the previous coordinator ended a run, not the queue
            }
            return;
        }
        startRun();
    }

    private void startRun() {
        ActorContext<Command> ctx = getContext();
        settings = spec.load();
        totalSteps = spec.steps() > 0 ? spec.steps() : settings.totalSteps();
        checkpointEvery = spec.checkpointEvery() > 0 ? spec.checkpointEvery() : settings.checkpointEvery();
        phase = Phase.WAITING;
        restoreState();
        ctx.getLog().info("Coordinator up: run [{}] in [{}], {} steps, checkpoint every {}, {}", spec.config(),
                spec.runDir(), totalSteps, checkpointEvery, committedStep < 0 ? "from scratch"
                        : "resuming from step " + committedStep + " (" + committedDir + ")");
        if (phase == Phase.WAITING && spec.curate() != null) {
            CurateSpec c = spec.curate();
            String done = CurationDriver.finishedDataset(c, spec.runDir());
            if (done == null) {
                phase = Phase.CURATING;
                curationDriver = ctx.spawn(CurationDriver.create(c, spec.runDir(),
                        ctx.messageAdapter(CurationDriver.Progress.class, Curating::new)), "curation");
                return;
            }
            ctx.getLog().info("Curation of {} already done: training on {}", c.source(), done);
            curation = new CurationView("done", c.source(), done, 0, 0, 0, 0, new String[0], new String[0], 0,
                    "curated by an earlier coordinator", 0);
            dataset = done;
        }
        beginTraining();
    }

    /** Waits for workers and data shards, then forms the first world. */
    private void beginTraining() {
        ActorContext<Command> ctx = getContext();
        if (phase == Phase.WAITING) {
            if (!subscribed) {                                  // a later run of this coordinator keeps the listing
                ActorRef<Receptionist.Listing> adapter = ctx.messageAdapter(Receptionist.Listing.class,
                        l -> new Listing(l.getServiceInstances(TrainerWorker.KEY)));
                ctx.getSystem().receptionist().tell(Receptionist.subscribe(TrainerWorker.KEY, adapter));
                subscribed = true;
            }
            ctx.getSelf().tell(Tick.ASK_DATA);
        }
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Listing.class, this::onListing)
                .onMessageEquals(Tick.ASK_DATA, this::onAskData)
                .onMessage(DataInfo.class, this::onDataInfo)
                .onMessage(WorkerHello.class, this::onHello)
                .onMessage(ProbeOver.class, m -> m.probe() == probe && phase == Phase.PROBING ? form() : this)
                .onMessage(WorldJoined.class, this::onWorldJoined)
                .onMessage(WorldFailed.class, m -> current(m.generation()) ? abort("rank " + m.rank() + " could not join: "
                        + m.error()) : this)
                .onMessage(StepDone.class, this::onStepDone)
                .onMessage(StepFailed.class, m -> current(m.generation()) ? abort("step " + m.step() + " failed on rank "
                        + m.rank() + ": " + m.error()) : this)
                .onMessage(CheckpointSaved.class, this::onCheckpointSaved)
                .onMessage(CheckpointFailed.class, m -> current(m.generation()) ? abort("checkpoint " + m.step()
                        + " failed on rank " + m.rank() + ": " + m.error()) : this)
                .onMessage(PhaseTimeout.class, m -> current(m.generation()) && m.phase() == phaseId
                        ? abort(phase.name().toLowerCase() + " got no answer from ranks " + pending + " within "
                        + spec.stepTimeout().toSeconds() + " s") : this)
                .onMessageEquals(Tick.REFORM, this::onReform)
                .onMessage(NextStep.class, m -> current(m.generation()) && phase == Phase.STEPPING && pending.isEmpty()
                        && m.step() == step ? nextStep() : this)
                .onMessage(GetStatus.class, this::onGetStatus)
                .onMessage(Stop.class, this::onStop)
                .onMessage(CheckpointNow.class, this::onCheckpointNow)
                .onMessage(Submit.class, this::onSubmit)
                .onMessage(Cancel.class, this::onCancel)
                .onMessageEquals(Tick.NEXT_RUN, this::onNextRun)
                .onMessage(Curating.class, this::onCurating)
                .build();
    }

    private boolean current(int gen) {
        return gen == generation && (phase == Phase.FORMING || phase == Phase.STEPPING || phase == Phase.CHECKPOINTING);
    }

    // ---- curation ----

    private Behavior<Command> onCurating(Curating m) {
        CurationDriver.Progress p = m.progress();
        curation = p.view();
        if (phase != Phase.CURATING) {
            return this;
        }
        if (!p.error().isEmpty()) {
            curationDriver = null;
            return finish(Phase.FAILED, "curation failed: " + p.error());
        }
        if (p.finished()) {
            curationDriver = null;
            dataset = p.view().dataset();
            message = p.view().message();
            phase = Phase.WAITING;
            getContext().getLog().info("Curation done; training on {}", dataset);
            beginTraining();
        }
        return this;
    }

    // ---- data and workers ----

    private Behavior<Command> onAskData() {
        String ds = dataset;
        getContext().ask(DataShard.Info.class, ClusterSharding.get(getContext().getSystem()).entityRefFor(DataShard.KEY, "0"),
                Duration.ofSeconds(10), r -> new DataShard.GetInfo(ds, r), (info, error) -> new DataInfo(ds, info, error));
        return this;
    }

    private Behavior<Command> onDataInfo(DataInfo m) {
        if (!m.asked().equals(dataset) || data != null) {
            return this;                                        // asked for an earlier run, or answered twice
        }
        if (m.error() != null) {
            getContext().getLog().info("Data shards not reachable yet ({}); asking again", m.error().toString());
            timers.startSingleTimer(Tick.ASK_DATA, Duration.ofSeconds(2));
            return this;
        }
        data = m.info();
        getContext().getLog().info("Data shards serve [{}]: {} images, {} per shard", data.dataset(), data.size(),
                data.sliceSize());
        return maybeStart();
    }

    private Behavior<Command> onListing(Listing m) {
        Set<ActorRef<TrainerWorker.Command>> gone = new HashSet<>(listed);
        gone.removeAll(m.workers());
        listed = new HashSet<>(m.workers());
        getContext().getLog().info("Workers registered: {}", listed.size());
        if (phase == Phase.FORMING || phase == Phase.STEPPING || phase == Phase.CHECKPOINTING) {
            for (WorkerHello w : world) {
                if (gone.contains(w.worker())) {
                    return abort("worker " + w.node() + " left the cluster");
                }
            }
        }
        return maybeStart();
    }

    private Behavior<Command> maybeStart() {
        if (phase == Phase.WAITING && data != null && !listed.isEmpty() && listed.size() >= neededWorkers()) {
            startProbe();
        }
        return this;
    }

    /** min-workers for the first world of a run; a run that already started re-forms with whoever is left. */
    private int neededWorkers() {
        return !formedBefore && committedStep < 0 ? spec.minWorkers() : 1;
    }

    private void startProbe() {
        phase = Phase.PROBING;
        probe++;
        hellos.clear();
        for (ActorRef<TrainerWorker.Command> w : listed) {
            w.tell(new TrainerWorker.Describe(getContext().getSelf()));
        }
        timers.startSingleTimer("probe", new ProbeOver(probe), spec.probeTimeout());
    }

    private Behavior<Command> onHello(WorkerHello m) {
        if (phase != Phase.PROBING) {
            return this;
        }
        hellos.put(m.worker(), m);
        return hellos.keySet().containsAll(listed) ? form() : this;
    }

    // ---- forming the world ----

    private Behavior<Command> form() {
        timers.cancel("probe");
        List<WorkerHello> candidates = new ArrayList<>(hellos.values());
        candidates.sort(Comparator.comparing(WorkerHello::node).thenComparing(WorkerHello::aeron));
        int n = candidates.size();
        while (n > 0 && settings.batchSize() % n != 0) {
            n--;
        }
        if (n == 0 || n < neededWorkers()) {
            phase = Phase.WAITING;
            message = "waiting for workers: " + candidates.size() + " answered, " + neededWorkers() + " needed";
            timers.startSingleTimer(Tick.REFORM, spec.reformDelay());
            return this;
        }
        world.clear();
        world.addAll(candidates.subList(0, n));
        generation++;
        formedBefore = true;
        step = Math.max(committedStep, 0);
        saveState();
        StringBuilder spec = new StringBuilder();
        for (WorkerHello w : world) {
            spec.append(spec.length() > 0 ? "," : "").append(w.aeron());
        }
        getContext().getLog().info("Forming world generation [{}] of {} workers, resuming at step {} ({}): {}", generation,
                n, step, committedDir.isEmpty() ? "from scratch" : committedDir, spec);
        String config = settings.render();
        for (int r = 0; r < n; r++) {
            world.get(r).worker().tell(new TrainerWorker.FormWorld(generation, spec.toString(), r, config, committedDir,
                    dataset, data.size(), data.sliceSize(), getContext().getSelf()));
        }
        expectAll(Phase.FORMING);
        return this;
    }

    private void expectAll(Phase p) {
        phase = p;
        pending.clear();
        for (int r = 0; r < world.size(); r++) {
            pending.add(r);
        }
        phaseId++;
        timers.startSingleTimer("phase", new PhaseTimeout(generation, phaseId), spec.stepTimeout());
    }

    private Behavior<Command> onWorldJoined(WorldJoined m) {
        if (!current(m.generation()) || phase != Phase.FORMING) {
            return this;
        }
        if (m.step() != step) {
            return abort("rank " + m.rank() + " loaded step " + m.step() + ", expected " + step);
        }
        pending.remove(m.rank());
        return pending.isEmpty() ? nextStep() : this;
    }

    // ---- steps ----

    private Behavior<Command> nextStep() {
        if (stopRequested) {
            return finish(Phase.STOPPED, "stopped on request after step " + step);
        }
        boolean due = step > committedStep && (checkpointRequested || step == totalSteps
                || (step > 0 && step % checkpointEvery == 0));
        if (due) {
            return checkpoint();
        }
        if (step >= totalSteps) {
            return finish(Phase.FINISHED, "finished " + totalSteps + " steps");
        }
        long hr = settings.highResStartStep();
        StepSchedule s = StepSchedule.of(settings.schedules().at(step), hr > 0 && step >= hr);
        stepReplies.clear();
        for (WorkerHello w : world) {
            w.worker().tell(new TrainerWorker.RunStep(generation, step, s));
        }
        expectAll(Phase.STEPPING);
        return this;
    }

    private Behavior<Command> onStepDone(StepDone m) {
        if (!current(m.generation()) || phase != Phase.STEPPING || m.step() != step) {
            return this;
        }
        stepReplies.add(m);
        pending.remove(m.rank());
        if (!pending.isEmpty()) {
            return this;
        }
        stepReplies.sort(Comparator.comparingInt(StepDone::rank));
        audit(stepReplies);
        StepDone r0 = stepReplies.get(0);
        lossNames = r0.lossNames();
        lossValues = r0.lossValues();
        recent.addLast(r0.totalLoss());
        while (recent.size() > RECENT) {
            recent.removeFirst();
        }
        step++;
        if (step % Math.max(1, settings.logEvery()) == 0 || step == totalSteps) {
            getContext().getLog().info("step {}/{}: loss {} ({} ranks, {} s)", step, totalSteps,
                    String.format(java.util.Locale.ROOT, "%.4f", r0.totalLoss()), world.size(),
                    String.format(java.util.Locale.ROOT, "%.2f", r0.seconds()));
        }
        if (!spec.stepPause().isZero()) {
            timers.startSingleTimer("next", new NextStep(generation, step), spec.stepPause());
            return this;
        }
        return nextStep();
    }

    // ---- checkpoints (two phases) ----

    private Behavior<Command> checkpoint() {
        checkpointRequested = false;
        for (WorkerHello w : world) {
            w.worker().tell(new TrainerWorker.SaveCheckpoint(generation, step, spec.runDir().toString()));
        }
        expectAll(Phase.CHECKPOINTING);
        return this;
    }

    private Behavior<Command> onCheckpointSaved(CheckpointSaved m) {
        if (!current(m.generation()) || phase != Phase.CHECKPOINTING || m.step() != step) {
            return this;
        }
        pending.remove(m.rank());
        if (!pending.isEmpty()) {
            return this;
        }
        // phase 2: every rank acknowledged its shard and the manifest is in place; verify it, then commit our record
        Path dir = Path.of(m.dir());
        try {
            ShardedCheckpoints.verify(dir);
        } catch (RuntimeException e) {
            return abort("checkpoint " + dir + " does not verify: " + e.getMessage());
        }
        committedStep = step;
        committedDir = dir.toString();
        saveState();
        getContext().getLog().info("Checkpoint committed: step {} in {}", step, dir);
        return nextStep();
    }

    // ---- failures ----

    private Behavior<Command> abort(String why) {
        getContext().getLog().warn("Aborting generation [{}] at step {}: {}", generation, step, why);
        message = why;
        restarts++;
        for (WorkerHello w : world) {
            w.worker().tell(new TrainerWorker.LeaveWorld(generation));
        }
        timers.cancel("phase");
        phase = Phase.REFORMING;
        timers.startSingleTimer(Tick.REFORM, spec.reformDelay());
        return this;
    }

    private Behavior<Command> onReform() {
        if (phase == Phase.REFORMING || phase == Phase.WAITING) {
            phase = Phase.WAITING;
            if (data != null && !listed.isEmpty()) {
                startProbe();
            }
        }
        return this;
    }

    private Behavior<Command> finish(Phase end, String why) {
        phase = end;
        message = why;
        timers.cancel("phase");
        for (WorkerHello w : world) {
            w.worker().tell(new TrainerWorker.LeaveWorld(generation));
        }
        saveState();
        try {
            SubmittedRuns.clear(stateDir, spec, node);
        } catch (RuntimeException e) {
            getContext().getLog().warn("Cannot clear the kept submission in {}: {}", stateDir, e.getMessage());
        }
        getContext().getLog().info("Run {}: {}", end.name().toLowerCase(), why);
        if (!queue.isEmpty()) {                                 // the workers leave the world first
            timers.startSingleTimer("next-run", Tick.NEXT_RUN, spec.reformDelay());
        }
        return this;
    }

    // ---- operator requests ----

    private Behavior<Command> onGetStatus(GetStatus m) {
        RunStatus.WorkerView[] views = new RunStatus.WorkerView[world.size()];
        for (int r = 0; r < world.size(); r++) {
            views[r] = new RunStatus.WorkerView(r, world.get(r).node(), world.get(r).aeron());
        }
        double[] rl = recent.stream().mapToDouble(Double::doubleValue).toArray();
        RunStatus.QueuedRun[] queued = queue.stream().map(r -> new RunStatus.QueuedRun(r.config(),
                r.runDir().toAbsolutePath().toString(), r.steps(), r.curate() != null)).toArray(RunStatus.QueuedRun[]::new);
        m.replyTo().tell(new RunStatus(phase.name().toLowerCase(), step, totalSteps, generation, committedStep, committedDir,
                settings == null ? 0 : step * settings.batchSize(), lossNames, lossValues, rl, views, message, restarts,
                curation, spec.config(), spec.runDir() == null ? "" : spec.runDir().toAbsolutePath().toString(), queued));
        return this;
    }

    private Behavior<Command> onStop(Stop m) {
        if (ended()) {
            m.replyTo().tell(new Accepted(false, "no run in progress (" + phase.name().toLowerCase() + ")"));
            return this;
        }
        stopRequested = true;
        if (phase == Phase.CURATING) {
            getContext().stop(curationDriver);
            curationDriver = null;
            m.replyTo().tell(new Accepted(true, "the curation stops (finished partitions stay in the run directory)"));
            return finish(Phase.STOPPED, "stopped on request while curating");
        }
        m.replyTo().tell(new Accepted(true, "the run stops after the step in flight" + (queue.isEmpty() ? ""
                : "; then the next of " + queue.size() + " queued runs starts (POST /training/cancel takes one out)")));
        if (phase != Phase.STEPPING && phase != Phase.CHECKPOINTING && phase != Phase.FORMING) {
            return finish(Phase.STOPPED, "stopped on request at step " + step);
        }
        return this;
    }

    private Behavior<Command> onSubmit(Submit m) {
        if (configured) {
            m.replyTo().tell(new Accepted(false, "the coordinator owns run " + spec.config() + " in " + spec.runDir()
                    + ", fixed by the node config (dinoj.actors.coordinator.run); it takes no submitted runs"));
            return this;
        }
        RunSpec next;
        try {
            if (m.dir() == null || m.dir().isBlank()) {
                throw new IllegalArgumentException("no run directory given");
            }
            next = new RunSpec(m.config(), m.sets() == null ? List.of() : List.of(m.sets()), Path.of(m.dir()),
                    m.steps(), m.checkpointEvery(), spec.minWorkers(), spec.probeTimeout(), spec.stepTimeout(),
                    spec.reformDelay(), spec.stepPause(), m.curate());
            next.load();
        } catch (RuntimeException e) {
            m.replyTo().tell(new Accepted(false, "run refused: " + e.getMessage()));
            return this;
        }
        if (!ended()) {
            Path dir = next.runDir();
            if (runsIn(spec, dir) || queue.stream().anyMatch(r -> runsIn(r, dir))) {
                m.replyTo().tell(new Accepted(false, "run refused: " + dir + " is the directory of a run that is running "
                        + "or queued; a run directory holds one run (give another --out, or cancel the queued one: POST "
                        + "/training/cancel)"));
                return this;
            }
            if (queue.size() >= maxQueued) {
                m.replyTo().tell(new Accepted(false, "run refused: " + queue.size() + " runs are queued already "
                        + "(dinoj.actors.coordinator.max-queued = " + maxQueued + "); submit again when one has started"));
                return this;
            }
            queue.addLast(next);
            String unkept = keepQueue();
            if (unkept != null) {
                queue.removeLast();
                m.replyTo().tell(new Accepted(false, "run refused: " + unkept));
                return this;
            }
            getContext().getLog().info("Run {} in {} queued at position {}", next.config(), next.runDir(), queue.size());
            m.replyTo().tell(new Accepted(true, "run " + next.config() + " queued at position " + queue.size() + ": it "
                    + "starts when run " + spec.config() + " in " + spec.runDir() + " (" + phase.name().toLowerCase()
                    + ", step " + step + ")" + (queue.size() > 1 ? " and the " + (queue.size() - 1) + " before it have"
                    : " has") + " ended; run dir " + next.runDir()));
            return this;
        }
        String why = start(next);
        if (why != null) {
            m.replyTo().tell(new Accepted(false, why));
            return this;
        }
        m.replyTo().tell(new Accepted(true, "run " + spec.config() + " accepted: " + (spec.curate() == null ? ""
                : "curating " + spec.curate().source() + " into " + spec.curate().out() + ", then ") + totalSteps
                + " steps in " + spec.runDir()));
        return this;
    }

    /**
     * Keeps {@code next} as the submitted run and starts it; returns why it could not be kept (then nothing changed),
     * or null.
     */
    private String start(RunSpec next) {
        try {
            if (stateDir != null) {
                SubmittedRuns.save(stateDir, next);
            }
        } catch (java.io.IOException e) {
            return "run refused: " + cannotKeep(e);
        }
        spec = next;
        resetRunState();
        startRun();
        return null;
    }

    /** Starts the first queued run once the current one has ended. */
    private Behavior<Command> onNextRun() {
        if (!ended() || queue.isEmpty()) {
            return this;
        }
        RunSpec next = queue.pollFirst();
        keepQueue();
        getContext().getLog().info("Starting queued run {} in {} ({} left in the queue)", next.config(), next.runDir(),
                queue.size());
        String why;
        try {
            why = start(next);
        } catch (RuntimeException e) {                          // its config changed or vanished while it waited
            why = e.getMessage();
        }
        if (why != null) {                                      // the status shows this run, not the one before
            if (spec != next) {
                spec = next;
                resetRunState();
            }
            settings = null;
            totalSteps = 0;
            return finish(Phase.FAILED, "queued run " + next.config() + " in " + next.runDir() + " could not start: " + why);
        }
        return this;
    }

    private Behavior<Command> onCancel(Cancel m) {
        Path dir = m.dir() == null || m.dir().isBlank() ? null : Path.of(m.dir());
        RunSpec found = dir == null ? null : queue.stream().filter(r -> runsIn(r, dir)).findFirst().orElse(null);
        if (found == null) {
            boolean running = dir != null && !ended() && runsIn(spec, dir);
            m.replyTo().tell(new Accepted(false, running ? dir + " is the running run; stop it with POST /training/stop"
                    : "no queued run in " + m.dir() + " (" + queue.size() + " queued)"));
            return this;
        }
        queue.remove(found);
        keepQueue();
        m.replyTo().tell(new Accepted(true, "queued run " + found.config() + " in " + found.runDir() + " cancelled ("
                + queue.size() + " left in the queue)"));
        return this;
    }

    /** Whether {@code run} trains in run directory {@code dir}. */
    private static boolean runsIn(RunSpec run, Path dir) {
        return run.runDir() != null && run.runDir().toAbsolutePath().normalize().equals(dir.toAbsolutePath().normalize());
    }

    /** Writes the queue to the state folder; returns why it could not (logged), or null. */
    private String keepQueue() {
        try {
            SubmittedRuns.saveQueue(stateDir, List.copyOf(queue));
            return null;
        } catch (java.io.IOException e) {
            getContext().getLog().warn("Cannot keep the queue: {}", cannotKeep(e));
            return cannotKeep(e);
        }
    }

    private String cannotKeep(java.io.IOException e) {
        return "cannot keep it in dinoj.actors.coordinator.state-dir = " + stateDir + " (" + e.getMessage() + ")";
    }

    /** Whether no run is in progress: none yet, or the last one finished, stopped or failed. */
    private boolean ended() {
        return phase == Phase.IDLE || phase == Phase.FINISHED || phase == Phase.STOPPED || phase == Phase.FAILED;
    }

    /**
     * Forgets what the previous submitted run left (its world has already been told to leave) before the next one
     * starts; the generation counter goes on, so no world of the new run shares a generation with an old one.
     */
    private void resetRunState() {
        timers.cancel("phase");
        hellos.clear();
        world.clear();
        pending.clear();
        stepReplies.clear();
        recent.clear();
        data = null;                                          // the next run may train on another data set
        formedBefore = false;
        step = 0;
        committedStep = -1;
        committedDir = "";
        checkpointRequested = false;
        stopRequested = false;
        message = "";
        restarts = 0;
        lossNames = new String[0];
        lossValues = new double[0];
        curation = CurationView.none();
        dataset = "";
        curationDriver = null;
    }

    private Behavior<Command> onCheckpointNow(CheckpointNow m) {
        if (ended() || phase == Phase.CURATING) {
            m.replyTo().tell(new Accepted(false, "no run in progress (" + phase.name().toLowerCase() + ")"));
            return this;
        }
        checkpointRequested = true;
        m.replyTo().tell(new Accepted(true, "a checkpoint follows the step in flight"));
        return this;
    }

    // ---- run state and audit (files in the run directory) ----

    private Path stateFile() {
        return spec.runDir().resolve("run-state.json");
    }

    private void restoreState() {
        try {
            Files.createDirectories(spec.runDir());
            Optional<Path> latest = ShardedCheckpoints.latest(spec.runDir());
            if (latest.isPresent()) {
                committedDir = latest.get().toString();
                committedStep = ShardedCheckpoints.manifest(latest.get()).get("step").asLong();
            }
            if (Files.exists(stateFile())) {
                JsonNode s = JSON.readTree(stateFile().toFile());
                int recorded = s.path("generation").asInt(0);
                generation = Math.max(generation, recorded);             // never reuse a generation
                formedBefore = recorded > 0;
                restarts = s.path("restarts").asInt(0);
                String ph = s.path("phase").asText("");
                if (ph.equals("finished") || ph.equals("stopped") || ph.equals("failed")) {
                    phase = ph.equals("finished") ? Phase.FINISHED : ph.equals("stopped") ? Phase.STOPPED : Phase.FAILED;
                    message = s.path("message").asText("");
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(spec.runDir() + ": cannot read the run state (" + e.getMessage()
                    + "); check dinoj.actors.coordinator.run.dir", e);
        }
        step = Math.max(committedStep, 0);
    }

    private void saveState() {
        ObjectNode s = JSON.createObjectNode();
        s.put("phase", phase.name().toLowerCase());
        s.put("generation", generation);
        s.put("restarts", restarts);
        s.put("committed_step", committedStep);
        s.put("checkpoint", committedDir);
        s.put("sampler_position", Math.max(committedStep, 0) * settings.batchSize());
        s.put("message", message);
        try {
            Path tmp = stateFile().resolveSibling("run-state.json.tmp");
            Files.write(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(s));
            Files.move(tmp, stateFile(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new IllegalStateException(stateFile() + ": cannot write the run state (" + e.getMessage() + ")", e);
        }
    }

    /** One line per completed step: generation, step, and the (position, index) of every sample, in rank order. */
    private void audit(List<StepDone> replies) {
        ObjectNode line = JSON.createObjectNode();
        line.put("generation", generation);
        line.put("step", step);
        line.put("world_size", world.size());
        var pos = line.putArray("positions");
        var idx = line.putArray("indices");
        boolean keyed = false;
        for (StepDone d : replies) {
            for (int i = 0; i < d.positions().length; i++) {
                pos.add(d.positions()[i]);
                idx.add(d.indices()[i]);
                keyed |= d.keys() != null && i < d.keys().length && !d.keys()[i].isEmpty();
            }
        }
        if (keyed) {
            var keys = line.putArray("keys");
            for (StepDone d : replies) {
                for (int i = 0; i < d.positions().length; i++) {
                    keys.add(d.keys() != null && i < d.keys().length ? d.keys()[i] : "");
                }
            }
        }
        line.put("loss", replies.get(0).totalLoss());
        try {
            Files.write(spec.runDir().resolve("audit.jsonl"), (JSON.writeValueAsString(line) + "\n")
                    .getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            getContext().getLog().warn("Cannot append to audit.jsonl: {}", e.getMessage());
        }
    }
}
