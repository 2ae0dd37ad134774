package dev.dinoj.pipeline.ingest;

import akka.Done;
import akka.actor.ActorSystem;
import akka.japi.Pair;
import akka.stream.KillSwitches;
import akka.stream.UniqueKillSwitch;
import akka.stream.javadsl.Keep;
import akka.stream.javadsl.Sink;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.embed.Embedder;
import dev.dinoj.pipeline.storage.ObjectInfo;
import dev.dinoj.pipeline.storage.ObjectStore;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One ingestion of a prefix, as an Akka Streams graph with back-pressure from end to end:
 *
 * <pre>
 * listing (pages on demand; re-listed after transient failures, already-emitted keys dropped)
 *   → resume filter (key + ETag already in the manifest)
 *   → download, {@code download-parallelism} at once, retried with backoff
 *   → decode on {@code decode-parallelism} threads (guards; IDX archives expanded lazily, member by member)
 *   → batches of {@code embed-batch} (or what arrived within a second)
 *   → embed the contents not seen before (one embedder call at a time)
 *   → record: exact duplicates by SHA-256, manifest lines appended and flushed
 * </pre>
 *
 * Every listed object ends in exactly one manifest line (an archive: one line, plus one per member). A failure that
 * retries cannot fix fails the run; what was recorded stays, and the next run over the same manifest resumes.
 */
public final class IngestRun {
    private static final Logger log = LoggerFactory.getLogger(IngestRun.class);
    private static final AtomicInteger POOLS = new AtomicInteger();

    private final ActorSystem system;
    private final ObjectStore store;
    private final String prefix;
    private final IngestSettings settings;
    private final Embedder embedder;
    private final Manifest manifest;
    private final EmbeddingStore embeddings;
    private final Consumer<IngestStats.Snapshot> progress;
    private final IngestStats stats = new IngestStats();
    private final Map<String, String> firstKeyBySha = new HashMap<>();
    private final Pattern keyFilter;
    private Predicate<String> scope;

    /**
     * @param system     runs the stream
     * @param source     the bucket/directory and prefix to ingest
     * @param settings   parallelism, batch size, guards
     * @param embedder   embeds the decoded images
     * @param manifest   where every object's line goes (loaded: its objects are skipped)
     * @param embeddings embeddings by content hash (loaded: known contents are not embedded again)
     * @param progress   called after every recorded batch (may be null)
     */
    public IngestRun(
            ActorSystem system,
            ObjectStores.Location source,
            IngestSettings settings,
            Embedder embedder,
            Manifest manifest,
            EmbeddingStore embeddings,
            Consumer<IngestStats.Snapshot> progress) {
        if (embeddings.dim() != embedder.dim()) {
            throw new IllegalArgumentException(
                    "embedding store has dim " + embeddings.dim() + ", the embedder " + embedder.dim());
        }
        this.system = system;
        this.store = source.store();
        this.prefix = source.prefix();
        this.settings = settings;
        this.embedder = embedder;
        this.manifest = manifest;
        this.embeddings = embeddings;
        this.progress = progress;
        this.keyFilter = settings.keyFilter().isEmpty() ? null : Pattern.compile(settings.keyFilter());
        for (ManifestEntry e : manifest.entries()) {
            if (e.state() == ObjectState.INGESTED && e.sha256() != null && !e.isArchive()) {
                firstKeyBySha.putIfAbsent(e.sha256(), e.key());
            }
        }
    }

    /**
     * Restricts this run to the listed keys that {@code owns} accepts (a partition of the pool when several runs share
     * one prefix, as the cluster's curation workers do); the others are not counted, recorded or downloaded.
     */
    public IngestRun scope(Predicate<String> owns) {
        this.scope = owns;
        return this;
    }

    /** A running ingestion. */
    public record Handle(CompletionStage<Result> done, UniqueKillSwitch killSwitch) {
        /** Stops the stream (the result fails); what was recorded stays in the manifest. */
        public void abort() {
            killSwitch.abort(new IllegalStateException("ingestion aborted"));
        }
    }

    /**
     * The outcome.
     *
     * @param entries    every recorded entry, this run's and earlier runs'
     * @param embeddings embeddings by content hash
     * @param stats      this run's counters
     */
    public record Result(List<ManifestEntry> entries, EmbeddingStore embeddings, IngestStats.Snapshot stats) {}

    /** What the download stage hands on: bytes, or a final entry. */
    private record Fetched(ObjectInfo info, byte[] data, String etag, ManifestEntry terminal) {}

    /** One manifest line to be, with the pixels to embed when it is an ingested image. */
    private record Item(ManifestEntry entry, Supplier<RgbImage> pixels) {}

    /** Starts the stream. */
    public Handle start() {
        ExecutorService decodePool = Executors.newFixedThreadPool(settings.decodeThreads(), daemon("decode"));
        ExecutorService embedPool = Executors.newSingleThreadExecutor(daemon("embed"));
        log.info(
                "ingesting {} prefix [{}]: download-parallelism {}, decode threads {}, embed batch {}, embedder {}",
                store.describe(),
                prefix,
                settings.downloadParallelism(),
                settings.decodeThreads(),
                settings.embedBatch(),
                embedder.id());
        // S3 pages are retried inside Alpakka S3; a listing that still fails fails the run (the next run resumes)
        Pair<UniqueKillSwitch, CompletionStage<Done>> run = store.list(prefix)
                .viaMat(KillSwitches.single(), Keep.right())
                .filter(info -> scope == null || scope.test(info.key()))
                .filter(info -> {
                    stats.listed.incrementAndGet();
                    if (manifest.isDone(info.key(), info.etag())) {
                        stats.resumed.incrementAndGet();
                        return false;
                    }
                    return true;
                })
                .mapAsyncUnordered(settings.downloadParallelism(), this::fetch)
                .mapAsyncUnordered(
                        settings.decodeThreads(), f -> CompletableFuture.supplyAsync(() -> expand(f), decodePool))
                .mapConcat(items -> items)
                .groupedWithin(settings.embedBatch(), Duration.ofSeconds(1))
                .mapAsync(1, batch -> CompletableFuture.supplyAsync(() -> embed(batch), embedPool))
                .toMat(Sink.foreach(this::record), Keep.both())
                .run(system);
        CompletionStage<Result> done = run.second().handle((d, err) -> {
            decodePool.shutdown();
            embedPool.shutdown();
            if (err != null) {
                Throwable cause = StorageException.unwrap(err);
                log.warn(
                        "ingestion of {} stopped after [{}] entries: {}",
                        store.describe(),
                        stats.snapshot().recorded(),
                        cause.toString());
                throw cause instanceof RuntimeException re ? re : new IllegalStateException(cause);
            }
            IngestStats.Snapshot s = stats.snapshot();
            log.info(
                    "ingested {} prefix [{}]: listed [{}], resumed [{}], recorded [{}] in [{}] s",
                    store.describe(),
                    prefix,
                    s.listed(),
                    s.resumed(),
                    s.recorded(),
                    String.format("%.1f", s.seconds()));
            return new Result(manifest.entries(), embeddings, s);
        });
        return new Handle(done, run.first());
    }

    /** Runs to the end. */
    public Result run() {
        try {
            return start().done().toCompletableFuture().join();
        } catch (CompletionException e) {
            Throwable c = StorageException.unwrap(e);
            throw c instanceof RuntimeException re ? re : new IllegalStateException(c);
        }
    }

    private CompletionStage<Fetched> fetch(ObjectInfo info) {
        if (keyFilter != null && !keyFilter.matcher(info.key()).find()) {
            return done(info, ObjectState.FILTERED, "key does not match key-filter " + keyFilter.pattern());
        }
        if (info.size() > settings.maxObjectBytes()) {
            return done(
                    info,
                    ObjectState.TOO_LARGE,
                    info.size() + " bytes exceed max-object-size " + settings.maxObjectBytes());
        }
        return store.get(info.key(), settings.maxObjectBytes()).handle((blob, err) -> {
            if (err == null) {
                stats.downloaded.incrementAndGet();
                stats.bytes.addAndGet(blob.data().length);
                String etag = blob.etag().isEmpty() ? info.etag() : blob.etag();
                return new Fetched(info, blob.data(), etag, null);
            }
            Throwable cause = StorageException.unwrap(err);
            if (cause instanceof StorageException se && se.kind() == StorageException.Kind.NOT_FOUND) {
                return terminal(info, ObjectState.FILTERED, "object disappeared after the listing (404)");
            }
            if (cause instanceof StorageException se && se.kind() == StorageException.Kind.PERMANENT) {
                // one object the store will not serve is that object's state, not a failed ingest
                log.warn("{}: GET refused, recorded as unreadable: {}", store.uriOf(info.key()), se.getMessage());
                return terminal(info, ObjectState.UNREADABLE, "GET refused: " + se.getMessage());
            }
            if (cause instanceof StorageException se && se.kind() == StorageException.Kind.TOO_LARGE) {
                return terminal(
                        info,
                        ObjectState.TOO_LARGE,
                        "more than max-object-size " + settings.maxObjectBytes() + " bytes arrived");
            }
            throw cause instanceof RuntimeException re ? re : new IllegalStateException(cause);
        });
    }

    private static CompletionStage<Fetched> done(ObjectInfo info, ObjectState state, String detail) {
        return CompletableFuture.completedFuture(terminal(info, state, detail));
    }

    private static Fetched terminal(ObjectInfo info, ObjectState state, String detail) {
        return new Fetched(
                info, null, info.etag(), ManifestEntry.of(info.key(), info.etag(), info.size(), state, detail));
    }

    /** Decodes one object into the items of its manifest lines (lazily, for archives). */
    private Iterable<Item> expand(Fetched f) {
        if (f.terminal() != null) {
            return List.of(new Item(f.terminal(), null));
        }
        String key = f.info().key();
        byte[] data = f.data();
        ManifestEntry base = ManifestEntry.of(key, f.etag(), data.length, ObjectState.INGESTED, null);
        Decoder.Outcome o = Decoder.decode(data, settings);
        if (o instanceof Decoder.Rejected r) {
            ManifestEntry e = base.withState(r.state(), r.detail(), null);
            return List.of(new Item(r.format() == null ? e : e.withFormat(r.format()), null));
        }
        if (o instanceof Decoder.Image img) {
            RgbImage pixels = img.image();
            ManifestEntry e = base.withSha(Decoder.sha256(data)).withImage(img.format(), img.width(), img.height());
            return List.of(new Item(e, () -> pixels));
        }
        Decoder.Archive a = (Decoder.Archive) o;
        ManifestEntry archive = base.withSha(Decoder.sha256(data))
                .withImage("idx-archive", a.cols(), a.rows())
                .withMembers(a.count())
                .withState(
                        ObjectState.INGESTED,
                        "IDX archive expanded to " + a.count() + " images of " + a.cols() + "x" + a.rows(),
                        null);
        String etag = f.etag();
        return () -> new Iterator<>() {
            private int next = advance(0);
            private boolean archiveDone;

            private int advance(int from) {
                int i = from;
                while (i < a.count() && manifest.isDone(key + "#" + i, etag)) {
                    i++;
                }
                return i;
            }

            @Override
            public boolean hasNext() {
                return next < a.count() || !archiveDone;
            }

            @Override
            public Item next() {
                if (next < a.count()) {
                    int i = next;
                    next = advance(i + 1);
                    ManifestEntry m = new ManifestEntry(
                            key + "#" + i,
                            etag,
                            a.memberBytes(),
                            a.memberSha(i),
                            ObjectState.INGESTED,
                            null,
                            null,
                            "idx",
                            a.cols(),
                            a.rows(),
                            null,
                            null,
                            null,
                            null);
                    return new Item(m, () -> a.member(i));
                }
                if (archiveDone) {
                    throw new NoSuchElementException();
                }
                archiveDone = true;
                return new Item(archive, null);
            }
        };
    }

    /** Embeds the batch's ingested images whose content has no embedding yet. */
    private List<Item> embed(List<Item> batch) {
        List<RgbImage> images = new ArrayList<>();
        List<String> shas = new ArrayList<>();
        Set<String> pending = new HashSet<>();
        for (Item it : batch) {
            ManifestEntry e = it.entry();
            if (e.state() == ObjectState.INGESTED
                    && it.pixels() != null
                    && !embeddings.contains(e.sha256())
                    && pending.add(e.sha256())) {
                images.add(it.pixels().get());
                shas.add(e.sha256());
            }
        }
        if (!images.isEmpty()) {
            float[] v = embedder.embed(images);
            embeddings.putAll(shas.toArray(new String[0]), v);
            stats.embedded.addAndGet(images.size());
        }
        return batch;
    }

    /** Marks exact duplicates and appends the batch's lines to the manifest. */
    private void record(List<Item> batch) {
        List<ManifestEntry> out = new ArrayList<>(batch.size());
        for (Item it : batch) {
            ManifestEntry e = it.entry();
            if (e.isArchive()) {
                stats.archives.incrementAndGet();
            } else {
                if (e.state() == ObjectState.INGESTED) {
                    String first = firstKeyBySha.putIfAbsent(e.sha256(), e.key());
                    if (first != null && !first.equals(e.key())) {
                        e = e.withState(ObjectState.EXACT_DUPLICATE, "same bytes as " + first, first);
                    }
                }
                stats.count(e.state());
            }
            out.add(e);
        }
        manifest.append(out);
        if (progress != null) {
            progress.accept(stats.snapshot());
        }
    }

    private static ThreadFactory daemon(String role) {
        int pool = POOLS.incrementAndGet();
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, "dinoj-ingest-" + role + "-" + pool + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
