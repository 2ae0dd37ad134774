package dev.dinoj.actors.curate;

import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.PostStop;
import akka.actor.typed.javadsl.AbstractBehavior;
import akka.actor.typed.javadsl.ActorContext;
import akka.actor.typed.javadsl.Behaviors;
import akka.actor.typed.javadsl.Receive;
import akka.actor.typed.receptionist.Receptionist;
import akka.actor.typed.receptionist.ServiceKey;
import akka.cluster.typed.Cluster;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.Config;
import dev.dinoj.actors.ClusterMessage;
import dev.dinoj.actors.data.StorageSystem;
import dev.dinoj.pipeline.curate.CurationSettings;
import dev.dinoj.pipeline.curate.Partitions;
import dev.dinoj.pipeline.embed.Embedder;
import dev.dinoj.pipeline.ingest.EmbeddingStore;
import dev.dinoj.pipeline.ingest.IngestRun;
import dev.dinoj.pipeline.ingest.Manifest;
import dev.dinoj.pipeline.shards.EmbeddingSpill;
import dev.dinoj.pipeline.shards.ShardStore;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.stream.Stream;

/**
 * The curation worker of a {@code curation} node (receptionist key {@code curation-worker}). It runs the ingest +
 * embed stage ({@link IngestRun}, the same code as {@code dinoj curate}) on the partitions the driver assigns, one at a
 * time on a thread of its own: it ingests the objects of its partition into a scratch directory (manifest.jsonl,
 * embeddings.bin, and the ingested objects' embeddings as float16 shards in {@code embeddings/}, {@link EmbeddingSpill}),
 * then renames that directory into {@link Partitions#done} in one step and reports
 * {@link CurationDriver.PartitionDone}. It also runs the passes of the sharded k-means ({@link AssignPass}, for
 * {@link KMeansDriver}) over partitions' float16 shards. Jobs that arrive while it is busy wait in order.
 */
public final class CurationWorker extends AbstractBehavior<CurationWorker.Command> {

    public sealed interface Command {}

    /** Ingest partition {@code partition} of {@code partitions} of the pool of {@code spec} into {@code runDir}. */
    public record IngestPartition(
            CurateSpec spec, int partition, int partitions, String runDir, ActorRef<CurationDriver.Command> replyTo)
            implements Command, ClusterMessage {}

    /**
     * One pass of the sharded k-means over partition {@code partition} of the curation root {@code root} (a local
     * directory or an {@code s3://} prefix): assign its float16 shards to {@code centroids} ({@code [k, dim]}, row-major)
     * and answer the per-centroid sums and counts ({@link KMeansDriver.PassPartial}); with {@code last}, also write the
     * partition's assignment beside it. A non-empty {@code selection} names the partition's row selection the pass is
     * restricted to ({@link dev.dinoj.pipeline.curate.Partitions#selection}).
     */
    public record AssignPass(
            String root,
            int partition,
            int pass,
            boolean last,
            int k,
            int dim,
            float[] centroids,
            int blockRows,
            String selection,
            ActorRef<KMeansDriver.Command> replyTo)
            implements Command, ClusterMessage {}

    /**
     * One pass of the sharded aligned copy detection over partition {@code partition} of {@code partitions} of the
     * curation root {@code root}: {@link dev.dinoj.pipeline.curate.ShardedCopyDetection#run} with the task's fields,
     * answered as a {@link KMeansDriver.PassPartial} whose sums are the partition's answer (the pairs pass writes the
     * partition's pairs beside it).
     */
    public record CopyPass(
            String root,
            int partition,
            int partitions,
            int pass,
            int kind,
            int side,
            int candidates,
            double[] whitening,
            int blockRows,
            double sampleRate,
            float[] centroids,
            int nprobe,
            ActorRef<KMeansDriver.Command> replyTo)
            implements Command, ClusterMessage {}

    private record Finished(Runnable reply, String warning) implements Command {}

    public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "curation-worker");

    private static final ObjectMapper JSON = new ObjectMapper();

    public static Behavior<Command> create() {
        return Behaviors.setup(CurationWorker::new);
    }

    private final ExecutorService thread;
    private final String node;
    private final Config app;
    private final ArrayDeque<Command> queue = new ArrayDeque<>();
    private boolean busy;

    private CurationWorker(ActorContext<Command> ctx) {
        super(ctx);
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "dinoj-curation");
            t.setDaemon(true);
            return t;
        });
        this.node = Cluster.get(ctx.getSystem()).selfMember().address().toString();
        this.app = ctx.getSystem().settings().config();
        ctx.getSystem().receptionist().tell(Receptionist.register(KEY, ctx.getSelf()));
        ctx.getLog().info("Curation worker up");
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(IngestPartition.class, this::onIngest)
                .onMessage(AssignPass.class, this::onAssign)
                .onMessage(CopyPass.class, this::onCopy)
                .onMessage(Finished.class, this::onFinished)
                .onSignal(PostStop.class, s -> {
                    thread.shutdownNow();
                    return this;
                })
                .build();
    }

    private Behavior<Command> onIngest(IngestPartition m) {
        queue.addLast(m);
        return next();
    }

    private Behavior<Command> onAssign(AssignPass m) {
        queue.addLast(m);
        return next();
    }

    private Behavior<Command> onCopy(CopyPass m) {
        queue.addLast(m);
        return next();
    }

    /** Runs one pass over one partition on the curation thread and answers {@code replyTo} (its partial, or why not). */
    private Behavior<Command> runPass(
            String what,
            int pass,
            int partition,
            ActorRef<KMeansDriver.Command> replyTo,
            java.util.function.Supplier<KMeansDriver.Command> work) {
        CompletableFuture<KMeansDriver.Command> f = CompletableFuture.supplyAsync(work, thread);
        getContext().pipeToSelf(f, (ok, err) -> {
            KMeansDriver.Command r =
                    err == null ? ok : new KMeansDriver.PassFailed(pass, partition, node, describe(err));
            return new Finished(
                    () -> replyTo.tell(r),
                    r instanceof KMeansDriver.PassFailed pf
                            ? what + " " + pf.pass() + " of partition " + pf.partition() + " failed: " + pf.error()
                            : null);
        });
        return this;
    }

    private Behavior<Command> next() {
        if (busy || queue.isEmpty()) {
            return this;
        }
        busy = true;
        Command next = queue.removeFirst();
        if (next instanceof CopyPass pass) {
            return runPass(
                    "copy-detection pass",
                    pass.pass(),
                    pass.partition(),
                    pass.replyTo(),
                    () -> KMeansPasses.runCopy(pass, node, app));
        }
        if (next instanceof AssignPass pass) {
            return runPass(
                    "k-means pass",
                    pass.pass(),
                    pass.partition(),
                    pass.replyTo(),
                    () -> KMeansPasses.run(pass, node, app));
        }
        IngestPartition job = (IngestPartition) next;
        ActorRef<CurationDriver.Command> self = job.replyTo();
        getContext()
                .getLog()
                .info(
                        "Ingesting partition [{}] of [{}] of {}",
                        job.partition(),
                        job.partitions(),
                        job.spec().source());
        CompletableFuture<CurationDriver.Command> f = CompletableFuture.supplyAsync(() -> ingest(job, self), thread);
        getContext().pipeToSelf(f, (ok, err) -> {
            CurationDriver.Command r =
                    err == null ? ok : new CurationDriver.PartitionFailed(job.partition(), node, describe(err));
            return new Finished(
                    () -> job.replyTo().tell(r),
                    r instanceof CurationDriver.PartitionFailed pf
                            ? "Partition " + pf.partition() + " failed: " + pf.error()
                            : null);
        });
        return this;
    }

    private Behavior<Command> onFinished(Finished m) {
        busy = false;
        if (m.warning() != null) {
            getContext().getLog().warn(m.warning());
        }
        m.reply().run();
        return next();
    }

    static String describe(Throwable e) {
        Throwable c = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        return c.getMessage() == null ? c.toString() : c.getMessage();
    }

    /** Runs on the curation thread: ingest the partition into scratch, then move it into place. */
    private CurationDriver.Command ingest(IngestPartition job, ActorRef<CurationDriver.Command> driver) {
        long t0 = System.nanoTime();
        Path runDir = Path.of(job.runDir());
        int p = job.partition();
        int n = job.partitions();
        Path done = Partitions.done(runDir, p);
        if (Files.isDirectory(done)) {
            return report(p, done, t0, true);
        }
        Path scratch =
                Partitions.scratch(runDir, p, UUID.randomUUID().toString().substring(0, 8));
        CurationSettings cs = CurationSettings.fromConfig(app);
        StorageSettings ss = StorageSettings.fromConfig(app);
        akka.actor.ActorSystem storage = StorageSystem.get(app);
        long[] lastReport = {0};
        try (Embedder embedder = Embedders.of(job.spec(), 64);
                ObjectStores.Location src =
                        ObjectStores.open(StorageUri.parse(job.spec().source()), ss, storage);
                Manifest manifest = Manifest.open(scratch.resolve("manifest.jsonl"));
                EmbeddingStore emb =
                        EmbeddingStore.open(scratch.resolve("embeddings.bin"), embedder.dim(), embedder.id())) {
            IngestRun.Result r = new IngestRun(storage, src, cs.ingest(), embedder, manifest, emb, s -> {
                        long now = System.nanoTime();
                        if (now - lastReport[0] > 1_000_000_000L) {
                            lastReport[0] = now;
                            driver.tell(new CurationDriver.PartitionProgress(p, node, s.recorded()));
                        }
                    })
                    .scope(key -> Partitions.of(key, n) == p)
                    .run();
            long spilled = EmbeddingSpill.write(ShardStore.local(scratch), "embeddings", r.entries(), emb);
            ObjectNode info = JSON.createObjectNode();
            info.put("partition", p);
            info.put("partitions", n);
            info.put("node", node);
            info.put("entries", r.entries().size());
            info.put("embedder", embedder.id());
            info.put("embedding_rows", spilled);
            info.put("seconds", (System.nanoTime() - t0) / 1e9);
            Files.write(
                    scratch.resolve("part.json"),
                    JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(info));
        } catch (IOException e) {
            throw new UncheckedIOException(scratch + ": cannot write the partition's result", e);
        } catch (RuntimeException e) {
            deleteTree(scratch);
            throw new IllegalStateException(
                    "partition " + p + " of " + job.spec().source() + ": " + describe(e), e);
        }
        try {
            Files.createDirectories(done.getParent());
            Files.move(scratch, done, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
            deleteTree(scratch); // another worker finished it first; its result stands
            return report(p, done, t0, true);
        } catch (AtomicMoveNotSupportedException e) {
            deleteTree(scratch);
            throw new IllegalStateException(
                    done.getParent() + ": the run directory's file system cannot rename "
                            + "atomically; curation partials need one that can (a local disk, NFS)",
                    e);
        } catch (IOException e) {
            deleteTree(scratch);
            throw new UncheckedIOException(done + ": cannot move the partition's result into place", e);
        }
        return report(p, done, t0, false);
    }

    private CurationDriver.Command report(int p, Path done, long t0, boolean existing) {
        long objects = 0;
        try (Stream<String> lines = Files.lines(done.resolve("manifest.jsonl"))) {
            objects = lines.filter(l -> !l.isBlank()).count();
        } catch (IOException e) {
            throw new UncheckedIOException(done + ": cannot read the partition's manifest", e);
        }
        return new CurationDriver.PartitionDone(p, node, objects, existing, (System.nanoTime() - t0) / 1e9);
    }

    static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(q -> {
                try {
                    Files.deleteIfExists(q);
                } catch (IOException e) {
                    // best effort: a scratch directory left behind is harmless
                }
            });
        } catch (IOException e) {
            // best effort
        }
    }
}
