package dev.dinoj.actors.train;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.ChildFailed;
import akka.actor.typed.Terminated;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.javadsl.TimerScheduler;
import dev.dinoj.actors.ClusterMessage;
import dev.dinoj.actors.curate.CurateSpec;
import dev.dinoj.actors.curate.CurationView;
import dev.dinoj.trainer.config.TrainSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The coordinator of the cluster's runs: a cluster singleton. It owns the {@link RunQueue} (the submitted run and
 * those queued behind it, kept in {@code dinoj.actors.coordinator.state-dir}) and drives one run at a time through a
 * {@link RunDriver} child; the status, stop and checkpoint requests of the management routes go to that driver. When
 * a run has ended the next queued one starts. A coordinator that starts elsewhere (the singleton moved, or it was
 * restarted after its driver failed) takes over the submitted run and the queue from the state folder, and the run
 * resumes from its run directory's committed checkpoint.
 */
public final class Coordinator extends AbstractBehavior<Coordinator.Command> {

    public interface Command {}

    public record GetStatus(ActorRef<RunStatus> replyTo) implements Command, ClusterMessage {}

    /** Stops the run after the step in flight (no further steps; the last committed checkpoint stays). */
    public record Stop(ActorRef<Accepted> replyTo) implements Command, ClusterMessage {}

    /** Checkpoints after the step in flight. */
    public record CheckpointNow(ActorRef<Accepted> replyTo) implements Command, ClusterMessage {}

    /** Submits a run (config file or preset, --set overrides, run directory, steps, checkpoint-every; 0 = the
     *  config's; a curation to run first, or null): it starts at once on an idle coordinator, else it is queued and
     *  starts when the runs before it have ended (refused when the node config fixes the run, and, as bad input, when
     *  it breaks the {@link SubmissionRules}). */
    public record Submit(
            String config,
            String[] sets,
            String dir,
            long steps,
            int checkpointEvery,
            CurateSpec curate,
            ActorRef<Accepted> replyTo)
            implements Command, ClusterMessage {}

    /** Takes the queued run of run directory {@code dir} out of the queue before it starts. */
    public record Cancel(String dir, ActorRef<Accepted> replyTo) implements Command, ClusterMessage {}

    /**
     * The answer to a request: accepted or not, one line.
     *
     * @param badRequest refused because of the request itself (a config that does not load, a path outside the
     *                   roots, a size out of bounds: HTTP 400), not because of what the coordinator is doing (409)
     */
    public record Accepted(boolean ok, String message, boolean badRequest) implements ClusterMessage {
        public Accepted(boolean ok, String message) {
            this(ok, message, false);
        }
    }

    private record DriverEnded(RunStatus status) implements Command {}

    private enum Tick implements Command {
        NEXT_RUN
    }

    public static Behavior<Command> create(RunSpec spec) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> new Coordinator(ctx, timers, spec)));
    }

    private final TimerScheduler<Command> timers;
    /** The node's coordinator settings (and its run, when the node config fixes one). */
    private final RunSpec node;

    private final RunQueue queue;
    private final SubmissionRules rules;
    private final ActorRef<RunDriver.Ended> ended;
    /** The driver of the run in progress (null: none). */
    private ActorRef<RunDriver.Command> driver;
    /** The run of the driver, or the last run. */
    private RunSpec current;
    /** What the status shows while no driver runs: the last run's end, or idle. */
    private RunStatus last;
    /** The last generation used: no world of a later run reuses one. */
    private int generation;

    private int runs;

    private Coordinator(ActorContext<Command> ctx, TimerScheduler<Command> timers, RunSpec spec) {
        super(ctx);
        this.timers = timers;
        this.node = spec;
        this.queue = RunQueue.fromConfig(ctx.getSystem().settings().config());
        this.rules = SubmissionRules.fromConfig(ctx.getSystem().settings().config());
        this.ended = ctx.messageAdapter(RunDriver.Ended.class, e -> new DriverEnded(e.status()));
        if (spec.hasRun()) {
            start(spec, spec.load());
            return;
        }
        warn(queue.restore());
        RunSpec kept = null;
        try {
            kept = queue.kept();
        } catch (RuntimeException e) {
            warn("Cannot resume the run submitted earlier (" + queue.keptFile() + "): " + e.getMessage());
        }
        if (kept != null) {
            ctx.getLog().info("Taking over the run submitted earlier ({})", queue.keptFile());
            String why = startSubmitted(kept, false);
            if (why == null) {
                return;
            }
            queue.forgetRunning(kept); // a kept run that cannot start fails once, not every restart
            last = notRunning(
                    "failed", kept, "the run submitted earlier in " + kept.runDir() + " could not start: " + why);
            warn(last.message());
        } else {
            last = notRunning("idle", spec, "no run configured (dinoj.actors.coordinator.run.config is empty)");
        }
        ctx.getLog().info("Coordinator up without a run{}", queue.isEmpty() ? "" : "; " + queue.size() + " queued");
        if (!queue.isEmpty() && kept != null) { // the failed one shows for reform-delay, as a queued one does
            timers.startSingleTimer(Tick.NEXT_RUN, node.reformDelay());
        } else if (!queue.isEmpty()) {
            ctx.getSelf().tell(Tick.NEXT_RUN); // the previous coordinator ended a run, not the queue
        }
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(GetStatus.class, this::onGetStatus)
                .onMessage(Stop.class, this::onStop)
                .onMessage(CheckpointNow.class, this::onCheckpointNow)
                .onMessage(Submit.class, this::onSubmit)
                .onMessage(Cancel.class, this::onCancel)
                .onMessage(DriverEnded.class, this::onDriverEnded)
                .onMessageEquals(Tick.NEXT_RUN, this::onNextRun)
                .onSignal(ChildFailed.class, this::onDriverFailed)
                .onSignal(Terminated.class, t -> this)
                .build();
    }

    private Behavior<Command> onGetStatus(GetStatus m) {
        if (driver == null) {
            m.replyTo().tell(last.withQueue(queue.views()));
        } else {
            driver.tell(new RunDriver.GetStatus(queue.views(), m.replyTo()));
        }
        return this;
    }

    private Behavior<Command> onStop(Stop m) {
        if (driver == null) {
            m.replyTo().tell(new Accepted(false, "no run in progress (" + last.phase() + ")"));
        } else {
            driver.tell(new RunDriver.Stop(queue.size(), m.replyTo()));
        }
        return this;
    }

    private Behavior<Command> onCheckpointNow(CheckpointNow m) {
        if (driver == null) {
            m.replyTo().tell(new Accepted(false, "no run in progress (" + last.phase() + ")"));
        } else {
            driver.tell(new RunDriver.CheckpointNow(m.replyTo()));
        }
        return this;
    }

    private Behavior<Command> onSubmit(Submit m) {
        if (node.hasRun()) {
            return reply(
                    m.replyTo(),
                    false,
                    "the coordinator owns run " + node.config() + " in " + node.runDir()
                            + ", fixed by the node config (dinoj.actors.coordinator.run); it takes no submitted runs");
        }
        RunSpec next;
        TrainSettings settings;
        try {
            next = submitted(m);
            rules.checkNew(next);
            settings = rules.load(next);
        } catch (RuntimeException e) {
            m.replyTo().tell(new Accepted(false, oneLine("run refused: " + e.getMessage()), true));
            return this;
        }
        return driver != null ? enqueue(next, m.replyTo()) : startNow(next, settings, m.replyTo());
    }

    /** The run of {@code m}, with this node's coordinator settings. */
    private RunSpec submitted(Submit m) {
        if (m.dir() == null || m.dir().isBlank()) {
            throw new IllegalArgumentException("no run directory given");
        }
        return node.forRun(
                m.config(),
                m.sets() == null ? List.of() : List.of(m.sets()),
                Path.of(m.dir()),
                m.steps(),
                m.checkpointEvery(),
                m.curate());
    }

    /** Queues {@code next} behind the run in progress; the driver answers (it knows its phase and step). */
    private Behavior<Command> enqueue(RunSpec next, ActorRef<Accepted> replyTo) {
        String refused = queue.enqueue(next, current);
        if (refused != null) {
            return reply(replyTo, false, refused);
        }
        getContext().getLog().info("Run {} in {} queued at position {}", next.config(), next.runDir(), queue.size());
        driver.tell(new RunDriver.Queued(next.config(), next.runDir(), queue.size(), replyTo));
        return this;
    }

    private Behavior<Command> startNow(RunSpec next, TrainSettings settings, ActorRef<Accepted> replyTo) {
        String unkept = queue.keepRunning(next);
        if (unkept != null) {
            return reply(replyTo, false, "run refused: " + unkept);
        }
        start(next, settings);
        return reply(
                replyTo,
                true,
                "run " + next.config() + " accepted: "
                        + (next.curate() == null
                                ? ""
                                : "curating " + next.curate().source() + " into "
                                        + next.curate().out() + ", then ")
                        + next.totalSteps(settings) + " steps in " + next.runDir());
    }

    private Behavior<Command> onCancel(Cancel m) {
        Path dir = m.dir() == null || m.dir().isBlank() ? null : Path.of(m.dir());
        Optional<RunSpec> found = dir == null ? Optional.empty() : queue.cancel(dir);
        if (found.isPresent()) {
            return reply(
                    m.replyTo(),
                    true,
                    "queued run " + found.get().config() + " in " + found.get().runDir() + " cancelled (" + queue.size()
                            + " left in the queue)");
        }
        return reply(
                m.replyTo(),
                false,
                driver != null && RunQueue.runsIn(current, dir)
                        ? dir + " is the running run; stop it with POST /training/stop"
                        : "no queued run in " + m.dir() + " (" + queue.size() + " queued)");
    }

    private Behavior<Command> onDriverEnded(DriverEnded m) {
        // what was forwarded to the driver before this is answered by it; then it stops
        driver.tell(new RunDriver.Release());
        driver = null;
        last = m.status();
        generation = Math.max(generation, m.status().generation());
        queue.forgetRunning(current);
        if (!queue.isEmpty()) { // the workers leave the world first
            timers.startSingleTimer(Tick.NEXT_RUN, node.reformDelay());
        }
        return this;
    }

    /** Starts the first queued run once the current one has ended. */
    private Behavior<Command> onNextRun() {
        Optional<RunSpec> next = driver == null ? queue.poll() : Optional.empty();
        if (next.isPresent()) {
            getContext()
                    .getLog()
                    .info(
                            "Starting queued run {} in {} ({} left in the queue)",
                            next.get().config(),
                            next.get().runDir(),
                            queue.size());
            startQueued(next.get());
        }
        return this;
    }

    /** Starts queued run {@code next}, or shows it failed (and goes on with the queue) when it cannot start. */
    private void startQueued(RunSpec next) {
        String why = startSubmitted(next, true);
        if (why == null) {
            return;
        }
        current = next; // the status shows this run, not the one before
        last = notRunning(
                "failed", next, "queued run " + next.config() + " in " + next.runDir() + " could not start: " + why);
        getContext().getLog().info("Run failed: {}", last.message());
        if (!queue.isEmpty()) {
            timers.startSingleTimer(Tick.NEXT_RUN, node.reformDelay());
        }
    }

    /**
     * Starts submitted run {@code run} after loading it by the {@link SubmissionRules} ({@code keep}: and keeping it
     * as the running one first); returns why it cannot start (its config changed or vanished while it waited, the
     * roots changed), or null.
     */
    private String startSubmitted(RunSpec run, boolean keep) {
        try {
            TrainSettings settings = rules.load(run);
            String why = keep ? queue.keepRunning(run) : null;
            if (why == null) {
                start(run, settings);
            }
            return why;
        } catch (RuntimeException e) {
            return oneLine(e.getMessage());
        }
    }

    /** {@code s} on one line (an answer or status message never spans lines). */
    private static String oneLine(String s) {
        return String.valueOf(s).replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }

    /** A driver that failed (a bug, or a run state it could not write) fails the coordinator: it restarts and resumes. */
    private Behavior<Command> onDriverFailed(ChildFailed f) {
        throw new IllegalStateException(
                "the driver of run " + current.config() + " in " + current.runDir() + " failed: "
                        + f.getCause().getMessage(),
                f.getCause());
    }

    private void start(RunSpec spec, TrainSettings settings) {
        current = spec;
        driver = getContext().spawn(RunDriver.create(spec, settings, generation, ended), "run-" + ++runs);
        getContext().watch(driver);
    }

    private Behavior<Command> reply(ActorRef<Accepted> to, boolean ok, String message) {
        to.tell(new Accepted(ok, message));
        return this;
    }

    private void warn(String problem) {
        if (problem != null) {
            getContext().getLog().warn(problem);
        }
    }

    /** The status of no run in progress: {@code phase} idle, or failed for a run that could not start. */
    private RunStatus notRunning(String phase, RunSpec spec, String message) {
        return new RunStatus(
                phase,
                0,
                0,
                generation,
                -1,
                "",
                0,
                new String[0],
                new double[0],
                new double[0],
                new RunStatus.WorkerView[0],
                message,
                0,
                0,
                CurationView.none(),
                spec.config(),
                spec.runDir() == null ? "" : spec.runDir().toAbsolutePath().toString(),
                new RunStatus.QueuedRun[0]);
    }
}
