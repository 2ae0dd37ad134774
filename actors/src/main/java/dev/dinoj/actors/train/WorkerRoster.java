package dev.dinoj.actors.train;

import akka.actor.typed.ActorRef;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The trainer workers of a run: those the receptionist lists, their answers to the last probe, and the world formed
 * from them (in rank order). Plain state and the choice of a world; the run driver owns it.
 */
final class WorkerRoster {

    private Set<ActorRef<TrainerWorker.Command>> listed = new HashSet<>();
    private final Map<ActorRef<TrainerWorker.Command>, RunDriver.WorkerHello> hellos = new HashMap<>();
    private final List<RunDriver.WorkerHello> world = new ArrayList<>();

    /** Takes the receptionist's new listing; returns the first member of the world it no longer lists, or null. */
    RunDriver.WorkerHello list(Set<ActorRef<TrainerWorker.Command>> workers) {
        Set<ActorRef<TrainerWorker.Command>> gone = new HashSet<>(listed);
        gone.removeAll(workers);
        listed = new HashSet<>(workers);
        return world.stream().filter(w -> gone.contains(w.worker())).findFirst().orElse(null);
    }

    Set<ActorRef<TrainerWorker.Command>> listed() {
        return listed;
    }

    /** A new probe: earlier answers are forgotten. */
    void probe() {
        hellos.clear();
    }

    /** Records an answer to the probe; returns whether every listed worker has answered. */
    boolean hello(RunDriver.WorkerHello h) {
        hellos.put(h.worker(), h);
        return hellos.keySet().containsAll(listed);
    }

    int answered() {
        return hellos.size();
    }

    /**
     * The world to form from the workers that answered: sorted by node and Aeron endpoint, at most {@code maxWorkers}
     * (0 = no bound), as many as divide the global batch {@code batchSize} (empty when none do).
     */
    List<RunDriver.WorkerHello> choose(int batchSize, int maxWorkers) {
        List<RunDriver.WorkerHello> candidates = new ArrayList<>(hellos.values());
        candidates.sort(Comparator.comparing(RunDriver.WorkerHello::node).thenComparing(RunDriver.WorkerHello::aeron));
        int n = size(candidates.size(), batchSize, maxWorkers);
        return List.copyOf(candidates.subList(0, n));
    }

    /** Ranks of a world of at most {@code available} workers: capped at {@code maxWorkers}, dividing the batch. */
    static int size(int available, int batchSize, int maxWorkers) {
        int n = maxWorkers > 0 ? Math.min(available, maxWorkers) : available;
        while (n > 0 && batchSize % n != 0) {
            n--;
        }
        return n;
    }

    /** Whether the listed workers would make a bigger world than the current one (joiners to take in). */
    boolean canGrow(int batchSize, int maxWorkers) {
        return size(listed.size(), batchSize, maxWorkers) > world.size();
    }

    /** The world formed now (rank order). */
    void form(List<RunDriver.WorkerHello> members) {
        world.clear();
        world.addAll(members);
    }

    List<RunDriver.WorkerHello> world() {
        return world;
    }

    /** The world's Aeron endpoints in rank order, comma-separated (a {@code World} spec). */
    String worldSpec() {
        StringBuilder spec = new StringBuilder();
        for (RunDriver.WorkerHello w : world) {
            spec.append(spec.length() > 0 ? "," : "").append(w.aeron());
        }
        return spec.toString();
    }

    /** Tells every member of the world. */
    void tellWorld(TrainerWorker.Command m) {
        for (RunDriver.WorkerHello w : world) {
            w.worker().tell(m);
        }
    }

    RunStatus.WorkerView[] views() {
        RunStatus.WorkerView[] views = new RunStatus.WorkerView[world.size()];
        for (int r = 0; r < world.size(); r++) {
            views[r] = new RunStatus.WorkerView(
                    r, world.get(r).node(), world.get(r).aeron());
        }
        return views;
    }
}
