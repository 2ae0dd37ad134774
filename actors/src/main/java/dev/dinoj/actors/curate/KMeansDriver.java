package dev.dinoj.actors.curate;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.receptionist.Receptionist;
import dev.dinoj.actors.ClusterMessage;
import dev.dinoj.pipeline.curate.HierarchicalKMeans;
import dev.dinoj.pipeline.curate.ShardedCopyDetection;
import dev.dinoj.pipeline.curate.ShardedHierarchicalKMeans;
import dev.dinoj.pipeline.curate.ShardedKMeans;
import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.pipeline.shards.EmbeddingShards;
import dev.dinoj.pipeline.shards.ShardStore;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Distributed hierarchical k-means over a sharded pool, as ssl-data-curation's distributed k-means: for every pass of
 * level 1 ({@link ShardedKMeans}) the driver sends the centroids to the registered {@link CurationWorker}s, one
 * {@link CurationWorker.AssignPass} per partition; each worker streams its partition's float16 shards and answers the
 * per-centroid sums and counts ({@link PassPartial}); the driver reduces them in partition order (so the result is the
 * one {@link ShardedKMeans.Local} computes in one JVM, whoever ran which partition) into the next centroids. The last
 * pass writes each partition's assignment beside it (on S3 when the root is). Levels above 1 (centroids only) run on
 * the driver.
 *
 * <p>A worker that leaves the receptionist listing (its node died or was downed) gives its unanswered partitions back
 * and they go to the others within the same pass, as {@link CurationDriver} does for ingestion; a partition whose pass
 * failed is tried again up to {@code maxAttempts} times. The seeding sample and the assignments are read by the driver
 * from the same root.
 *
 * <p>{@link #passes} makes a driver that runs only the passes others ask for through {@link #backend} (the cluster's
 * {@link CurationDriver} clusters the rows that survived deduplication and retrieval that way, a named row selection
 * per partition, {@link dev.dinoj.pipeline.shards.RowSelection}).
 */
public final class KMeansDriver extends AbstractBehavior<KMeansDriver.Command> {

    public interface Command {}

    /** A worker's partial of one pass over one partition. */
    public record PassPartial(
            int pass,
            int partition,
            String node,
            int k,
            int dim,
            double[] sums,
            long[] counts,
            double inertia,
            double seconds,
            long peakHeapBytes)
            implements Command, ClusterMessage {}

    /** A worker could not run one partition's pass. */
    public record PassFailed(int pass, int partition, String node, String error) implements Command, ClusterMessage {}

    /**
     * What one node did.
     *
     * @param rows          rows assigned over all passes
     * @param busySeconds   time spent in passes
     * @param peakHeapBytes the highest peak heap it reported
     */
    public record NodeStats(String node, long rows, double busySeconds, long peakHeapBytes) {}

    /** The outcome: the hierarchy, or the error; {@code seconds} from the first pass's start (workers up) to the end. */
    public record Result(HierarchicalKMeans.Hierarchy hierarchy, List<NodeStats> nodes, double seconds, String error) {}

    private record Workers(Set<ActorRef<CurationWorker.Command>> workers) implements Command {}

    private record StartPass(
            FloatMatrix centroids,
            int pass,
            boolean last,
            String selection,
            ShardedCopyDetection.Task copy,
            CompletableFuture<ShardedKMeans.Partial> done)
            implements Command {}

    private record Done(Result result) implements Command {}

    /**
     * @param root       the curation root holding {@code parts/part-NNNNN/embeddings} (directory or s3:// prefix)
     * @param partitions partitions of the pool
     * @param settings   levels, iterations, resampling, seed
     * @param blockRows  rows per assignment block
     * @param minWorkers workers to wait for before the first pass
     */
    public static Behavior<Command> create(
            String root,
            int partitions,
            HierarchicalKMeans.Settings settings,
            int blockRows,
            int minWorkers,
            int maxAttempts,
            ActorRef<Result> replyTo) {
        return Behaviors.setup(
                ctx -> new KMeansDriver(ctx, root, partitions, settings, blockRows, minWorkers, maxAttempts, replyTo));
    }

    /**
     * A driver that runs the passes {@link #backend} sends it over the registered curation workers (as soon as one is
     * there), and nothing else.
     *
     * @param root       the curation root holding {@code parts/part-NNNNN/embeddings} (directory or s3:// prefix)
     * @param partitions partitions of the pool
     * @param blockRows  rows per assignment block
     */
    public static Behavior<Command> passes(String root, int partitions, int blockRows, int maxAttempts) {
        return passes(root, partitions, blockRows, 1, maxAttempts);
    }

    /** {@link #passes} that waits for {@code minWorkers} curation workers before the first pass. */
    public static Behavior<Command> passes(
            String root, int partitions, int blockRows, int minWorkers, int maxAttempts) {
        return Behaviors.setup(
                ctx -> new KMeansDriver(ctx, root, partitions, null, blockRows, minWorkers, maxAttempts, null));
    }

    /**
     * The passes of a sharded k-means over the partitions' row selection {@code selection} (null = every row), run by
     * {@code driver} ({@link #passes}) on the curation workers; the seeding sample is read from {@code store} (the same
     * root) in the caller's thread. {@link ShardedKMeans.Backend#pass} blocks until every partition has answered.
     */
    public static ShardedKMeans.Backend backend(
            ActorRef<Command> driver, ShardStore store, int partitions, String selection) throws IOException {
        List<EmbeddingShards.Reader> parts = ShardedKMeans.open(store, partitions, selection);
        long rows = parts.stream().mapToLong(EmbeddingShards.Reader::rows).sum();
        return new ShardedKMeans.Backend() {
            @Override
            public long rows() {
                return rows;
            }

            @Override
            public FloatMatrix sample(long[] ids) throws IOException {
                return ShardedKMeans.sample(parts, ids);
            }

            @Override
            public ShardedKMeans.Partial pass(FloatMatrix centroids, int pass, boolean last) throws IOException {
                CompletableFuture<ShardedKMeans.Partial> f = new CompletableFuture<>();
                driver.tell(new StartPass(centroids, pass, last, selection, null, f));
                return await(f, "k-means pass " + pass);
            }
        };
    }

    /**
     * The passes of a {@link ShardedCopyDetection} run by {@code driver} ({@link #passes}) on the curation workers
     * ({@link CurationWorker.CopyPass}, answered as a {@link PassPartial} whose sums are the partition's answer); {@link
     * ShardedCopyDetection.Backend#run} blocks until every partition has answered. The passes are numbered below 0, so
     * that a late answer is never taken for a k-means pass's.
     */
    public static ShardedCopyDetection.Backend copyBackend(ActorRef<Command> driver) {
        java.util.concurrent.atomic.AtomicInteger next = new java.util.concurrent.atomic.AtomicInteger(-1);
        return t -> {
            int pass = next.getAndDecrement();
            CompletableFuture<ShardedKMeans.Partial> f = new CompletableFuture<>();
            driver.tell(new StartPass(null, pass, false, null, t, f));
            return await(f, "copy-detection pass " + pass).sums();
        };
    }

    private static ShardedKMeans.Partial await(CompletableFuture<ShardedKMeans.Partial> f, String what)
            throws IOException {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for " + what, e);
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) {
                throw r;
            }
            throw new IOException(c.getMessage(), c);
        }
    }

    private final String root;
    private final int partitions;
    private final HierarchicalKMeans.Settings settings;
    private final int blockRows;
    private final int minWorkers;

    /** Whether {@link #minWorkers} workers have been registered at some point. */
    private boolean quorum;

    private final int maxAttempts;
    private final ActorRef<Result> replyTo;
    private final com.typesafe.config.Config app;
    private final ExecutorService thread;
    private long t0 = System.nanoTime();
    private final Map<String, NodeStats> stats = new TreeMap<>();
    private Set<ActorRef<CurationWorker.Command>> workers = new HashSet<>();
    private boolean started;

    private StartPass current;
    private ShardedKMeans.Partial[] partials;
    private final TreeSet<Integer> pending = new TreeSet<>();
    private final Map<Integer, ActorRef<CurationWorker.Command>> assigned = new HashMap<>();
    private int[] attempts;

    private KMeansDriver(
            ActorContext<Command> ctx,
            String root,
            int partitions,
            HierarchicalKMeans.Settings settings,
            int blockRows,
            int minWorkers,
            int maxAttempts,
            ActorRef<Result> replyTo) {
        super(ctx);
        this.root = root;
        this.partitions = partitions;
        this.settings = settings;
        this.blockRows = blockRows;
        this.minWorkers = Math.max(1, minWorkers);
        this.maxAttempts = Math.max(1, maxAttempts);
        this.replyTo = replyTo;
        this.app = ctx.getSystem().settings().config();
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "dinoj-kmeans-driver");
            t.setDaemon(true);
            return t;
        });
        ActorRef<Receptionist.Listing> adapter = ctx.messageAdapter(
                Receptionist.Listing.class, l -> new Workers(l.getServiceInstances(CurationWorker.KEY)));
        ctx.getSystem().receptionist().tell(Receptionist.subscribe(CurationWorker.KEY, adapter));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Workers.class, this::onWorkers)
                .onMessage(StartPass.class, this::onStartPass)
                .onMessage(PassPartial.class, this::onPartial)
                .onMessage(PassFailed.class, this::onFailed)
                .onMessage(Done.class, this::onDone)
                .onSignal(PostStop.class, s -> {
                    thread.shutdownNow();
                    return this;
                })
                .build();
    }

    private Behavior<Command> onWorkers(Workers m) {
        workers = new HashSet<>(m.workers());
        for (Map.Entry<Integer, ActorRef<CurationWorker.Command>> e : new ArrayList<>(assigned.entrySet())) {
            if (!workers.contains(e.getValue())) {
                assigned.remove(e.getKey());
                pending.add(e.getKey());
                getContext()
                        .getLog()
                        .warn(
                                "curation worker {} left; partition {} of pass {} reassigned",
                                e.getValue().path(),
                                e.getKey(),
                                current == null ? -1 : current.pass());
            }
        }
        // the first pass waits for minWorkers workers; later ones run on whoever is there
        quorum |= workers.size() >= minWorkers;
        if (!started && settings != null && workers.size() >= minWorkers) {
            started = true;
            t0 = System.nanoTime();
            ActorRef<Command> self = getContext().getSelf();
            CompletableFuture.runAsync(() -> self.tell(new Done(fit(self))), thread);
        }
        return assign();
    }

    /** Runs on the driver's thread. */
    private Result fit(ActorRef<Command> self) {
        try (KMeansPasses.Opened o =
                KMeansPasses.open(root, getContext().getSystem().settings().config())) {
            ShardedKMeans.Backend backend = backend(self, o.store(), partitions, null);
            HierarchicalKMeans.Hierarchy h = ShardedHierarchicalKMeans.fit(
                    backend, o.store(), partitions, settings, line -> log.info("k-means: {}", line));
            return new Result(h, null, (System.nanoTime() - t0) / 1e9, null);
        } catch (Exception e) {
            Throwable c = CurationDriver.unwrap(e);
            return new Result(
                    null, null, (System.nanoTime() - t0) / 1e9, c.getMessage() == null ? c.toString() : c.getMessage());
        }
    }

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(KMeansDriver.class);

    private Behavior<Command> onStartPass(StartPass m) {
        current = m;
        partials = new ShardedKMeans.Partial[partitions];
        attempts = new int[partitions];
        assigned.clear();
        pending.clear();
        for (int p = 0; p < partitions; p++) {
            pending.add(p);
        }
        return assign();
    }

    /** Gives every pending partition to the worker with the fewest unanswered ones. */
    private Behavior<Command> assign() {
        if (current == null || workers.isEmpty() || !quorum) {
            return this;
        }
        List<ActorRef<CurationWorker.Command>> sorted = new ArrayList<>(workers);
        sorted.sort((a, b) -> a.path().toString().compareTo(b.path().toString()));
        FloatMatrix c = current.centroids();
        while (!pending.isEmpty()) {
            int p = pending.pollFirst();
            ActorRef<CurationWorker.Command> best = sorted.get(0);
            long least = Long.MAX_VALUE;
            for (ActorRef<CurationWorker.Command> w : sorted) {
                long load = assigned.values().stream().filter(w::equals).count();
                if (load < least) {
                    least = load;
                    best = w;
                }
            }
            attempts[p]++;
            assigned.put(p, best);
            ShardedCopyDetection.Task t = current.copy();
            if (t != null) {
                best.tell(new CurationWorker.CopyPass(
                        root,
                        p,
                        partitions,
                        current.pass(),
                        t.kind(),
                        t.side(),
                        t.candidates(),
                        t.whitening(),
                        t.blockRows(),
                        t.sampleRate(),
                        t.centroids(),
                        t.nprobe(),
                        getContext().getSelf()));
                continue;
            }
            best.tell(new CurationWorker.AssignPass(
                    root,
                    p,
                    current.pass(),
                    current.last(),
                    c.rows(),
                    c.cols(),
                    c.data(),
                    blockRows,
                    current.selection() == null ? "" : current.selection(),
                    getContext().getSelf()));
        }
        return this;
    }

    private Behavior<Command> onPartial(PassPartial m) {
        if (current == null || m.pass() != current.pass() || partials[m.partition()] != null) {
            return this; // a late answer of an earlier pass or attempt
        }
        partials[m.partition()] = new ShardedKMeans.Partial(m.k(), m.dim(), m.sums(), m.counts(), m.inertia());
        assigned.remove(m.partition());
        pending.remove(m.partition());
        long rows = partials[m.partition()].rows();
        stats.merge(
                m.node(),
                new NodeStats(m.node(), rows, m.seconds(), m.peakHeapBytes()),
                (a, b) -> new NodeStats(
                        a.node(),
                        a.rows() + b.rows(),
                        a.busySeconds() + b.busySeconds(),
                        Math.max(a.peakHeapBytes(), b.peakHeapBytes())));
        for (ShardedKMeans.Partial p : partials) {
            if (p == null) {
                return this;
            }
        }
        ShardedKMeans.Partial total = ShardedKMeans.Partial.empty(m.k(), m.dim());
        for (ShardedKMeans.Partial p : partials) {
            total = total.plus(p);
        }
        StartPass finished = current;
        current = null;
        finished.done().complete(total);
        return this;
    }

    private Behavior<Command> onFailed(PassFailed m) {
        if (current == null || m.pass() != current.pass() || partials[m.partition()] != null) {
            return this;
        }
        assigned.remove(m.partition());
        getContext()
                .getLog()
                .warn("k-means pass {} of partition {} failed on {}: {}", m.pass(), m.partition(), m.node(), m.error());
        if (attempts[m.partition()] >= maxAttempts) {
            StartPass failed = current;
            current = null;
            assigned.clear();
            pending.clear();
            failed.done()
                    .completeExceptionally(new IllegalStateException("partition " + m.partition() + " failed "
                            + attempts[m.partition()] + " times; last on " + m.node() + ": " + m.error()));
            return this;
        }
        pending.add(m.partition());
        return assign();
    }

    private Behavior<Command> onDone(Done m) {
        Result r = m.result();
        if (replyTo == null) {
            return Behaviors.stopped();
        }
        replyTo.tell(new Result(r.hierarchy(), List.copyOf(stats.values()), r.seconds(), r.error()));
        return Behaviors.stopped();
    }
}
