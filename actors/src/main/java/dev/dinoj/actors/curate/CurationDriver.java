package dev.dinoj.actors.curate;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.receptionist.Receptionist;
import akka.cluster.typed.Cluster;
import com.typesafe.config.Config;
import dev.dinoj.actors.ClusterMessage;
import dev.dinoj.pipeline.curate.CurateJob;
import dev.dinoj.pipeline.curate.CurationRecord;
import dev.dinoj.pipeline.curate.PartitionMerge;
import dev.dinoj.pipeline.curate.Partitions;
import dev.dinoj.pipeline.curate.ShardedKMeans;
import dev.dinoj.pipeline.curate.ShardedSelection;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Drives a curation over the cluster; a child of the coordinator singleton (the curation is the first phase of the
 * run the coordinator owns, so it moves with it and reports in the same status).
 *
 * <ol>
 *   <li>Lists the pool once and counts the objects of each partition ({@link Partitions#of}).</li>
 *   <li>Assigns the partitions without a finished result to the registered {@link CurationWorker}s, one at a time
 *       per worker. A worker that leaves the receptionist listing (its node died or was downed) gives its partition
 *       back, and it is assigned to another worker; a failed partition is retried up to
 *       {@code dinoj.actors.curation.max-attempts} times. Finished partitions are never redone: their result is a
 *       directory renamed into place.</li>
 *   <li>Merges the partitions, checks that every listed object is in exactly one partition's manifest (and in the
 *       partition its key hashes to), and runs the global stages with {@link CurateJob#finish}: exact dedup across
 *       partitions, copy detection, clustering, retrieval, balanced sampling, writing the curated set to
 *       {@code out}. {@code RUN/curation/done.json} records it; a new coordinator finding it does not curate again.
 *       With {@code dinoj.actors.curation.distributed-clustering} on (the default when the copy-detection embedder is
 *       a separate one), only the copy-detection columns are merged into this heap: retrieval streams the
 *       partitions' float16 shards ({@link ShardedSelection}) and the hierarchical k-means runs its passes on the
 *       curation workers (a {@link KMeansDriver#passes} child), over the rows that survived deduplication and
 *       retrieval.</li>
 * </ol>
 * It reports every change to its listener as a {@link Progress}.
 */
public final class CurationDriver extends AbstractBehavior<CurationDriver.Command> {

    public interface Command {}

    /** A worker's progress on a partition (entries recorded so far). */
    public record PartitionProgress(int partition, String node, long recorded) implements Command, ClusterMessage {}

    /** A partition's result is in place ({@code existing}: it was already there). */
    public record PartitionDone(int partition, String node, long entries, boolean existing, double seconds)
            implements Command, ClusterMessage {}

    public record PartitionFailed(int partition, String node, String error) implements Command, ClusterMessage {}

    /** What the listener hears: the view, and at the end the dataset ({@code finished}) or the error. */
    public record Progress(CurationView view, boolean finished, String error) {}

    private record Workers(Set<ActorRef<CurationWorker.Command>> workers) implements Command {}

    private record Listed(Set<String> keys, long[] perPartition, Throwable error) implements Command {}

    private record Merged(String summary, Throwable error) implements Command {}

    private enum Tick implements Command {
        CHECK_STALLED
    }

    /** For the driver thread (the actor context is not for other threads). */
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(CurationDriver.class);

    public static Behavior<Command> create(CurateSpec spec, Path runDir, ActorRef<Progress> listener) {
        return Behaviors.setup(ctx -> Behaviors.withTimers(timers -> {
            CurationDriver d = new CurationDriver(ctx, spec, runDir, listener);
            Duration every = d.partitionTimeout.dividedBy(4);
            timers.startTimerWithFixedDelay(
                    Tick.CHECK_STALLED, every.compareTo(Duration.ofSeconds(5)) > 0 ? Duration.ofSeconds(5) : every);
            return d;
        }));
    }

    /** The dataset of an earlier finished curation of {@code spec} in {@code runDir}, or null. */
    public static String finishedDataset(CurateSpec spec, Path runDir) {
        return CurationRecord.finished(runDir, spec.source(), spec.out()) ? spec.dataset() : null;
    }

    private final CurateSpec spec;
    private final Path runDir;
    private final ActorRef<Progress> listener;
    private final Config app;
    private final int n;
    private final int minWorkers;
    private final int maxAttempts;
    private final Duration partitionTimeout;
    /** Whether the selection stages run on the shards and the workers (distributed-clustering). */
    private final boolean distributed;
    /** The k-means passes' driver while the global stages run distributed. */
    private ActorRef<KMeansDriver.Command> passes;
    /** When each assigned partition was assigned or last reported progress (nanoTime). */
    private final long[] lastHeard;
    /** Workers that let a partition time out: given nothing more until they answer again. */
    private final Set<ActorRef<CurationWorker.Command>> stalled = new HashSet<>();

    private final ExecutorService thread;
    private final long t0 = System.nanoTime();
    private Set<ActorRef<CurationWorker.Command>> workers = new HashSet<>();
    private final Map<Integer, ActorRef<CurationWorker.Command>> assigned = new HashMap<>();
    private final TreeSet<Integer> pending = new TreeSet<>();
    private final String[] finishedBy;
    private final long[] recorded;
    private final int[] attempts;
    private Set<String> keys;
    private long[] perPartition;
    private String phase = "listing";
    private String message = "";

    private CurationDriver(ActorContext<Command> ctx, CurateSpec spec, Path runDir, ActorRef<Progress> listener) {
        super(ctx);
        this.spec = spec;
        this.runDir = runDir;
        this.listener = listener;
        this.app = ctx.getSystem().settings().config();
        Config c = app.getConfig("dinoj.actors.curation");
        this.n = spec.partitions() > 0 ? spec.partitions() : c.getInt("partitions");
        this.minWorkers = c.getInt("min-workers");
        this.maxAttempts = c.getInt("max-attempts");
        this.partitionTimeout = c.getDuration("partition-timeout");
        if (n < 1 || minWorkers < 1 || maxAttempts < 1) {
            throw new IllegalArgumentException(
                    "dinoj.actors.curation: partitions, min-workers and max-attempts must be >= 1");
        }
        this.distributed = GlobalStages.distributedClustering(c.getString("distributed-clustering"), spec);
        this.finishedBy = new String[n];
        this.recorded = new long[n];
        this.attempts = new int[n];
        this.lastHeard = new long[n];
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "dinoj-curation-driver");
            t.setDaemon(true);
            return t;
        });
        ctx.getLog()
                .info(
                        "Curating {} into {} over {} partitions (embedder {}, copy embedder {})",
                        spec.source(),
                        spec.out(),
                        n,
                        spec.embedder(),
                        spec.copyEmbedder());
        ActorRef<Receptionist.Listing> adapter = ctx.messageAdapter(
                Receptionist.Listing.class, l -> new Workers(l.getServiceInstances(CurationWorker.KEY)));
        ctx.getSystem().receptionist().tell(Receptionist.subscribe(CurationWorker.KEY, adapter));
        ctx.pipeToSelf(
                CompletableFuture.supplyAsync(this::list, thread),
                (r, err) -> err != null ? new Listed(null, null, unwrap(err)) : r);
        report(false, "");
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Workers.class, this::onWorkers)
                .onMessage(Listed.class, this::onListed)
                .onMessage(PartitionProgress.class, this::onProgress)
                .onMessage(PartitionDone.class, this::onDone)
                .onMessage(PartitionFailed.class, this::onFailed)
                .onMessage(Merged.class, this::onMerged)
                .onMessageEquals(Tick.CHECK_STALLED, this::onCheckStalled)
                .onSignal(PostStop.class, s -> {
                    thread.shutdownNow();
                    return this;
                })
                .build();
    }

    // ---- listing ----

    /** Runs on the driver's thread: the pool's keys ({@link PoolListing}), counted per partition. */
    private Listed list() {
        Set<String> keys = PoolListing.keys(spec.source(), app);
        return new Listed(keys, Partitions.counts(keys, n), null);
    }

    private Behavior<Command> onListed(Listed m) {
        if (m.error() != null) {
            return fail(m.error().getMessage());
        }
        keys = m.keys();
        perPartition = m.perPartition();
        int reused = 0;
        for (int p = 0; p < n; p++) {
            Path done = Partitions.done(runDir, p);
            if (Files.isDirectory(done)) {
                finishedBy[p] = PartitionMerge.ingestedOn(done);
                recorded[p] = perPartition[p];
                reused++;
            } else {
                pending.add(p);
            }
        }
        phase = "ingesting";
        getContext()
                .getLog()
                .info(
                        "Listed {} objects of {} in {} partitions ({} already ingested)",
                        keys.size(),
                        spec.source(),
                        n,
                        reused);
        return pending.isEmpty() ? merge() : assign();
    }

    // ---- assignment ----

    private Behavior<Command> onWorkers(Workers m) {
        workers = new HashSet<>(m.workers());
        getContext().getLog().info("Curation workers registered: {}", workers.size());
        for (Map.Entry<Integer, ActorRef<CurationWorker.Command>> e : new ArrayList<>(assigned.entrySet())) {
            if (!workers.contains(e.getValue())) {
                int p = e.getKey();
                assigned.remove(p);
                recorded[p] = 0;
                pending.add(p);
                message = "curation worker on " + nodeOf(e.getValue()) + " left; partition " + p + " reassigned";
                getContext().getLog().warn(message);
            }
        }
        return assign();
    }

    private Behavior<Command> assign() {
        if (keys == null
                || !phase.equals("ingesting")
                || workers.size() < minWorkers
                        && assigned.isEmpty()
                        && Arrays.stream(finishedBy).allMatch(s -> s == null)) {
            report(false, "");
            return this;
        }
        List<ActorRef<CurationWorker.Command>> idle = new ArrayList<>(workers);
        idle.removeAll(assigned.values());
        idle.removeAll(stalled);
        idle.sort((a, b) -> a.path().toString().compareTo(b.path().toString()));
        for (ActorRef<CurationWorker.Command> w : idle) {
            Integer p = pending.pollFirst();
            if (p == null) {
                break;
            }
            attempts[p]++;
            lastHeard[p] = System.nanoTime();
            assigned.put(p, w);
            w.tell(new CurationWorker.IngestPartition(
                    spec, p, n, runDir.toString(), getContext().getSelf()));
        }
        report(false, "");
        return this;
    }

    private Behavior<Command> onProgress(PartitionProgress m) {
        if (assigned.containsKey(m.partition()) && finishedBy[m.partition()] == null) {
            recorded[m.partition()] = Math.min(m.recorded(), perPartition[m.partition()]);
            lastHeard[m.partition()] = System.nanoTime();
            report(false, "");
        }
        return this;
    }

    private Behavior<Command> onDone(PartitionDone m) {
        int p = m.partition();
        if (p < 0 || p >= n || finishedBy[p] != null) {
            return this;
        }
        assigned.remove(p);
        pending.remove(p);
        stalled.removeIf(w -> nodeOf(w).equals(m.node()));
        finishedBy[p] = m.node();
        recorded[p] = perPartition[p];
        getContext()
                .getLog()
                .info(
                        "Partition {} ingested on {}: {} entries in {} s",
                        p,
                        m.node(),
                        m.entries(),
                        String.format(Locale.ROOT, "%.1f", m.seconds()));
        return pending.isEmpty() && assigned.isEmpty() ? merge() : assign();
    }

    private Behavior<Command> onFailed(PartitionFailed m) {
        int p = m.partition();
        if (p < 0 || p >= n || finishedBy[p] != null) {
            return this;
        }
        stalled.removeIf(w -> nodeOf(w).equals(m.node()));
        if (!assigned.containsKey(p) || !nodeOf(assigned.get(p)).equals(m.node())) {
            return this; // a late answer of an earlier attempt; the partition is elsewhere now
        }
        return failed(p, m.node(), m.error())
                ? fail("partition " + p + " failed " + attempts[p] + " times; last on " + m.node() + ": " + m.error())
                : assign();
    }

    /** Puts partition {@code p} back after a failed try; true when it has used up its tries. */
    private boolean failed(int p, String node, String error) {
        assigned.remove(p);
        recorded[p] = 0;
        message = "partition " + p + " failed on " + node + ": " + error;
        getContext().getLog().warn(message);
        if (attempts[p] >= maxAttempts) {
            return true;
        }
        pending.add(p);
        return false;
    }

    /** A partition whose worker reported nothing for {@code partition-timeout} counts as a failed try. */
    private Behavior<Command> onCheckStalled() {
        long now = System.nanoTime();
        boolean any = false;
        for (Map.Entry<Integer, ActorRef<CurationWorker.Command>> e : new ArrayList<>(assigned.entrySet())) {
            int p = e.getKey();
            if (now - lastHeard[p] > partitionTimeout.toNanos()) {
                any = true;
                String node = nodeOf(e.getValue());
                stalled.add(e.getValue());
                String why = "no progress for " + partitionTimeout.toSeconds() + " s (partition-timeout)";
                if (failed(p, node, why)) {
                    return fail("partition " + p + " failed " + attempts[p] + " times; last on " + node + ": " + why);
                }
            }
        }
        return any ? assign() : this;
    }

    // ---- the global stages ----

    private Behavior<Command> merge() {
        phase = "merging";
        if (distributed && passes == null) {
            passes = getContext()
                    .spawn(
                            KMeansDriver.passes(
                                    Partitions.root(runDir).toString(),
                                    n,
                                    ShardedKMeans.DEFAULT_BLOCK_ROWS,
                                    maxAttempts),
                            "kmeans-passes");
        }
        report(false, "");
        getContext()
                .pipeToSelf(
                        CompletableFuture.supplyAsync(
                                () -> GlobalStages.run(app, spec, runDir, n, keys, passes, finishedBy, t0), thread),
                        (s, err) -> new Merged(s, err == null ? null : unwrap(err)));
        return this;
    }

    private Behavior<Command> onMerged(Merged m) {
        if (m.error() != null) {
            return fail("global stages: " + m.error().getMessage());
        }
        phase = "done";
        message = "curated " + keys.size() + " objects into " + spec.dataset();
        getContext().getLog().info("Curation done:\n{}", m.summary());
        report(true, "");
        return Behaviors.stopped();
    }

    private Behavior<Command> fail(String why) {
        phase = "failed";
        message = why;
        getContext().getLog().error("Curation failed: {}", why);
        report(false, why);
        return Behaviors.stopped();
    }

    private void report(boolean finished, String error) {
        long done = 0;
        long total = 0;
        int parts = 0;
        String[] nodes = new String[n];
        String[] on = new String[n];
        for (int p = 0; p < n; p++) {
            ActorRef<CurationWorker.Command> w = assigned.get(p);
            on[p] = w == null ? "" : nodeOf(w);
            done += recorded[p];
            total += perPartition == null ? 0 : perPartition[p];
            parts += finishedBy[p] == null ? 0 : 1;
            nodes[p] = finishedBy[p] == null ? "" : finishedBy[p];
        }
        listener.tell(new Progress(
                new CurationView(
                        phase,
                        spec.source(),
                        spec.dataset(),
                        done,
                        total,
                        parts,
                        n,
                        nodes,
                        on,
                        workers.size(),
                        message,
                        (System.nanoTime() - t0) / 1e9),
                finished,
                error));
    }

    private String nodeOf(ActorRef<?> ref) {
        akka.actor.Address a = ref.path().address();
        return a.hasLocalScope()
                ? Cluster.get(getContext().getSystem()).selfMember().address().toString()
                : a.toString();
    }

    static Throwable unwrap(Throwable e) {
        Throwable c = e;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }
}
