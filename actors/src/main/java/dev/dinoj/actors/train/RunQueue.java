package dev.dinoj.actors.train;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator's submitted runs: the one running (kept as {@code submitted-run.conf}, so that the coordinator's next
 * node takes it over) and those queued behind it, in order (kept as {@code queued-runs.conf}), both in
 * {@code dinoj.actors.coordinator.state-dir} ({@link SubmittedRuns}; without a state folder they live in memory only).
 * A run directory holds one run: a submission into the directory of the running or a queued run is refused. The
 * files are small and written on operator requests and run changes only (submit, cancel, a run's start and end),
 * never per step. Not thread-safe: the coordinator owns it.
 */
final class RunQueue {

    private static final Logger log = LoggerFactory.getLogger(RunQueue.class);

    private final Path stateDir;
    private final Config node;
    private final int maxQueued;
    private final ArrayDeque<RunSpec> queued = new ArrayDeque<>();

    /**
     * @param stateDir  the state folder, or null when submissions are not kept
     * @param node      the node config (defaults of the runs read back)
     * @param maxQueued most runs that may wait
     */
    RunQueue(Path stateDir, Config node, int maxQueued) {
        this.stateDir = stateDir;
        this.node = node;
        this.maxQueued = maxQueued;
    }

    /** The queue of the node config ({@code state-dir}, {@code max-queued} of {@code dinoj.actors.coordinator}). */
    static RunQueue fromConfig(Config node) {
        return new RunQueue(SubmittedRuns.stateDir(node), node, node.getInt("dinoj.actors.coordinator.max-queued"));
    }

    /** Reads the queue an earlier coordinator kept; returns why it could not (the queue stays empty), or null. */
    String restore() {
        try {
            queued.addAll(SubmittedRuns.loadQueue(stateDir, node));
            return null;
        } catch (RuntimeException e) {
            return "Cannot read the runs queued earlier (" + file(SubmittedRuns.QUEUE_FILE) + "): " + e.getMessage();
        }
    }

    /** The file of the kept submission (for messages). */
    Path keptFile() {
        return file(SubmittedRuns.FILE);
    }

    /**
     * The submission that was running when the previous coordinator stopped, or null (none, or none kept).
     *
     * @throws RuntimeException when the kept file cannot be read
     */
    RunSpec kept() {
        return SubmittedRuns.load(stateDir, node);
    }

    /** Keeps {@code run} as the running submission; returns why it could not (nothing changed then), or null. */
    String keepRunning(RunSpec run) {
        if (stateDir == null) {
            return null;
        }
        try {
            SubmittedRuns.save(stateDir, run);
            return null;
        } catch (IOException e) {
            return cannotKeep(e);
        }
    }

    /** Forgets the kept submission of {@code run} (its run has ended); a later coordinator starts idle. */
    void forgetRunning(RunSpec run) {
        try {
            SubmittedRuns.clear(stateDir, run, node);
        } catch (RuntimeException e) {
            log.warn("Cannot clear the kept submission in {}: {}", stateDir, e.getMessage());
        }
    }

    /**
     * Queues {@code next} behind {@code running} and keeps the queue; returns why it was refused (then nothing
     * changed), or null (it is at position {@link #size()}).
     */
    String enqueue(RunSpec next, RunSpec running) {
        Path dir = next.runDir();
        if (runsIn(running, dir) || queued.stream().anyMatch(r -> runsIn(r, dir))) {
            return "run refused: " + dir + " is the directory of a run that is running or queued; a run directory "
                    + "holds one run (give another --out, or cancel the queued one: POST /training/cancel)";
        }
        if (queued.size() >= maxQueued) {
            return "run refused: " + queued.size() + " runs are queued already (dinoj.actors.coordinator.max-queued = "
                    + maxQueued + "); submit again when one has started";
        }
        queued.addLast(next);
        String unkept = keep();
        if (unkept != null) {
            queued.removeLast();
            return "run refused: " + unkept;
        }
        return null;
    }

    /** Takes the first queued run out (the queue is kept without it). */
    Optional<RunSpec> poll() {
        RunSpec next = queued.pollFirst();
        if (next != null) {
            keepOrWarn();
        }
        return Optional.ofNullable(next);
    }

    /** Takes the queued run of run directory {@code dir} out, if there is one. */
    Optional<RunSpec> cancel(Path dir) {
        Optional<RunSpec> found = queued.stream().filter(r -> runsIn(r, dir)).findFirst();
        found.ifPresent(r -> {
            queued.remove(r);
            keepOrWarn();
        });
        return found;
    }

    int size() {
        return queued.size();
    }

    boolean isEmpty() {
        return queued.isEmpty();
    }

    /** The queued runs as the status shows them, in order. */
    RunStatus.QueuedRun[] views() {
        return queued.stream()
                .map(r -> new RunStatus.QueuedRun(
                        r.config(), r.runDir().toAbsolutePath().toString(), r.steps(), r.curate() != null))
                .toArray(RunStatus.QueuedRun[]::new);
    }

    /** Whether {@code run} (may be null) trains in run directory {@code dir}. */
    static boolean runsIn(RunSpec run, Path dir) {
        return run != null
                && run.runDir() != null
                && dir != null
                && run.runDir()
                        .toAbsolutePath()
                        .normalize()
                        .equals(dir.toAbsolutePath().normalize());
    }

    private String keep() {
        try {
            SubmittedRuns.saveQueue(stateDir, List.copyOf(queued));
            return null;
        } catch (IOException e) {
            return cannotKeep(e);
        }
    }

    private void keepOrWarn() {
        String unkept = keep();
        if (unkept != null) {
            log.warn("Cannot keep the queue: {}", unkept);
        }
    }

    private String cannotKeep(IOException e) {
        return "cannot keep it in dinoj.actors.coordinator.state-dir = " + stateDir + " (" + e.getMessage() + ")";
    }

    private Path file(String name) {
        return stateDir == null ? Path.of(name) : stateDir.resolve(name);
    }
}
