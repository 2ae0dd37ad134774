package dev.dinoj.pipeline.curate;

import akka.actor.ActorSystem;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.embed.CompositeEmbedder;
import dev.dinoj.pipeline.embed.CopyEmbedder;
import dev.dinoj.pipeline.embed.Embedder;
import dev.dinoj.pipeline.ingest.EmbeddingStore;
import dev.dinoj.pipeline.ingest.IngestRun;
import dev.dinoj.pipeline.ingest.IngestStats;
import dev.dinoj.pipeline.ingest.Manifest;
import dev.dinoj.pipeline.ingest.ManifestEntry;
import dev.dinoj.pipeline.ingest.ObjectState;
import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code dinoj curate} as a library call: ingest the source (resumable through the work directory), ingest and embed
 * the query images, curate, write the curated dataset.
 */
public final class CurateJob {
    private CurateJob() {}

    /**
     * What to curate.
     *
     * @param source     the uncurated pool ({@code s3://bucket/prefix} or a local directory/file)
     * @param queries    query images, or null (no retrieval)
     * @param out        where the curated dataset goes
     * @param workDir    local directory of the resumable state (manifest.jsonl, embeddings.bin) and scratch
     * @param targetSize size of the curated set, or null
     * @param exclude    image sets whose copies are dropped from the pool ({@code curate --exclude}; may be empty)
     * @param excludeThreshold verification score at or above which a pool image copies an excluded one
     */
    public record Spec(
            StorageUri source,
            StorageUri queries,
            StorageUri out,
            Path workDir,
            Integer targetSize,
            List<ExcludeSet> exclude,
            float excludeThreshold) {
        public Spec {
            exclude = List.copyOf(exclude);
            if (!(excludeThreshold > 0 && excludeThreshold <= 1)) {
                throw new IllegalArgumentException("exclude threshold must be in (0, 1]: " + excludeThreshold);
            }
        }

        /** Without exclusion. */
        public Spec(StorageUri source, StorageUri queries, StorageUri out, Path workDir, Integer targetSize) {
            this(source, queries, out, workDir, targetSize, List.of(), AlignedCopyDetector.THRESHOLD);
        }
    }

    /**
     * Images the curated set must hold no copies of (a benchmark's test split, a query set).
     *
     * @param name   how the set is named in messages and in excluded entries' reasons (e.g. the spec)
     * @param images the images
     */
    public record ExcludeSet(String name, ImageDataset images) {}

    /** Side of the copy thumbnails ({@link CopyEmbedder}) the exclusion compares. */
    public static final int EXCLUDE_SIDE = CopyEmbedder.DEFAULT_SIDE;

    /** Reference images embedded per batch. */
    private static final int EXCLUDE_BATCH = 256;

    /**
     * The outcome.
     *
     * @param curation     final manifest, curated set, summary
     * @param ingest       the pool ingestion's result (counters of this run)
     * @param queryImages  query images embedded
     * @param written      what went to {@code out}
     * @param seconds      wall time of the job
     */
    public record Outcome(
            Curation.Result curation,
            IngestRun.Result ingest,
            int queryImages,
            CuratedWriter.Written written,
            double seconds) {}

    /**
     * Runs the job.
     *
     * @param say      one line per stage (may be null)
     * @param progress ingestion counters after every batch (may be null)
     */
    public static Outcome run(
            ActorSystem system,
            Spec spec,
            Embedder embedder,
            CurationSettings cs,
            StorageSettings ss,
            Consumer<String> say,
            Consumer<IngestStats.Snapshot> progress) {
        return run(system, spec, null, embedder, cs, ss, say, progress);
    }

    /**
     * Runs the job with a separate copy-detection embedder (as DINOv2 uses SSCD for copies and a ViT for retrieval).
     *
     * @param copyEmbedder embeds for near-duplicate detection; null = {@code embedder} does both
     * @param embedder     embeds for retrieval and clustering
     */
    public static Outcome run(
            ActorSystem system,
            Spec spec,
            Embedder copyEmbedder,
            Embedder embedder,
            CurationSettings cs,
            StorageSettings ss,
            Consumer<String> say,
            Consumer<IngestStats.Snapshot> progress) {
        return runWith(
                system, spec, layout(copyEmbedder, embedder, !spec.exclude().isEmpty()), cs, ss, say, progress);
    }

    /**
     * The columns of a curation's embeddings: {@code [exclusion thumbnails | copy-detection | retrieval]}.
     *
     * @param embedder    what the pool and the queries are embedded with
     * @param excludeDims leading columns of {@code copy:24} thumbnails that only the exclusion reads; 0 when there is
     *                    no exclusion, or when the copy-detection columns are those thumbnails already (then the
     *                    exclusion compares them and nothing is stored twice)
     * @param copyDims    copy-detection columns after them (0: the retrieval embedding does both)
     * @param alignedSide the copy-detection columns are {@link CopyEmbedder} thumbnails of this side ({@link
     *                    AlignedCopyDetector}), or 0 (cosine)
     * @param exclusion   whether the embeddings hold the exclusion's thumbnails (in the leading columns or as the
     *                    copy-detection ones)
     */
    public record Layout(Embedder embedder, int excludeDims, int copyDims, int alignedSide, boolean exclusion) {
        /** The first retrieval column. */
        public int retrievalColumn() {
            return excludeDims + copyDims;
        }
    }

    /**
     * The layout of a curation with {@code copyEmbedder} (null: {@code embedder} does both) and {@code embedder}; with
     * {@code exclude}, the exclusion's {@code copy:24} thumbnails are put in front unless the copy-detection embedder
     * is {@code copy:24} itself. {@code dinoj curate} and the cluster's curation workers and driver build it the same
     * way, so that partial embeddings merge.
     */
    public static Layout layout(Embedder copyEmbedder, Embedder embedder, boolean exclude) {
        Embedder used = copyEmbedder == null ? embedder : new CompositeEmbedder(copyEmbedder, embedder);
        int copyDims = copyEmbedder == null ? 0 : copyEmbedder.dim();
        int aligned = alignedSide(used);
        if (!exclude || aligned == EXCLUDE_SIDE) {
            return new Layout(used, 0, copyDims, aligned, exclude);
        }
        // the exclusion's copy thumbnails go first ({@link Curation.Exclusion}), then the layout above
        CopyEmbedder thumbnails = new CopyEmbedder(EXCLUDE_SIDE);
        return new Layout(new CompositeEmbedder(thumbnails, used), thumbnails.dim(), copyDims, aligned, true);
    }

    private static Outcome runWith(
            ActorSystem system,
            Spec spec,
            Layout layout,
            CurationSettings cs,
            StorageSettings ss,
            Consumer<String> say,
            Consumer<IngestStats.Snapshot> progress) {
        Embedder embedder = layout.embedder();
        long t0 = System.nanoTime();
        Consumer<String> out = say == null ? x -> {} : say;
        IngestRun.Result pool;
        try (ObjectStores.Location src = ObjectStores.open(spec.source(), ss, system);
                Manifest manifest = Manifest.open(spec.workDir().resolve("manifest.jsonl"));
                EmbeddingStore emb =
                        EmbeddingStore.open(spec.workDir().resolve("embeddings.bin"), embedder.dim(), embedder.id())) {
            out.accept("ingesting " + spec.source() + " (" + src.store().describe() + ")");
            pool = new IngestRun(system, src, cs.ingest(), embedder, manifest, emb, progress).run();

            return finish(system, spec, src, pool, emb, layout, cs, ss, out, t0);
        }
    }

    /**
     * The stages after ingestion: embed the queries, curate ({@link Curation#run}) and write the curated dataset. The
     * cluster's curation driver calls this with the merged ingestion of its partitions.
     *
     * @param src    the pool's location (the writer copies the kept objects' bytes from it)
     * @param pool   the ingestion's entries (every pool object's line)
     * @param emb    embeddings of every ingested content
     * @param layout their columns ({@link #layout}); with {@code spec.exclude()}, one made with {@code exclude}
     * @param t0     {@link System#nanoTime()} at the job's start
     */
    public static Outcome finish(
            ActorSystem system,
            Spec spec,
            ObjectStores.Location src,
            IngestRun.Result pool,
            EmbeddingStore emb,
            Layout layout,
            CurationSettings cs,
            StorageSettings ss,
            Consumer<String> out,
            long t0) {
        return finish(system, spec, src, pool, emb, layout, null, cs, ss, out, t0);
    }

    /**
     * As {@link #finish(ActorSystem, Spec, ObjectStores.Location, IngestRun.Result, EmbeddingStore, Layout,
     * CurationSettings, StorageSettings, Consumer, long)}, the selection stages over {@code vectors}.
     *
     * @param emb     with {@code vectors}: the columns before {@link Layout#retrievalColumn()} only ({@link
     *                Curation#run})
     * @param vectors the pool's retrieval embeddings (the cluster's shards), or null for those of {@code emb}
     */
    public static Outcome finish(
            ActorSystem system,
            Spec spec,
            ObjectStores.Location src,
            IngestRun.Result pool,
            EmbeddingStore emb,
            Layout layout,
            SelectionVectors.Source vectors,
            CurationSettings cs,
            StorageSettings ss,
            Consumer<String> out,
            long t0) {
        Embedder embedder = layout.embedder();
        if (!spec.exclude().isEmpty() && !layout.exclusion()) {
            throw new IllegalArgumentException(
                    "the curation excludes " + spec.exclude().size() + " sets but its embeddings hold no copy:"
                            + EXCLUDE_SIDE + " thumbnails (a layout without exclude)");
        }
        Curation.Queries queries = Curation.Queries.none(embedder.dim());
        if (spec.queries() != null) {
            out.accept("embedding the queries " + spec.queries());
            queries = embedQueries(system, spec.queries(), embedder, cs, ss);
            out.accept("queries: " + queries.keys().length + " images");
        }
        Curation.Exclusion exclusion = null;
        if (!spec.exclude().isEmpty()) {
            exclusion = exclusion(spec.exclude(), spec.excludeThreshold(), layout.excludeDims() > 0, cs, out);
        }
        Curation.Result result = Curation.run(
                pool.entries(),
                emb,
                queries,
                spec.targetSize(),
                layout.copyDims(),
                layout.alignedSide(),
                exclusion,
                vectors,
                cs,
                out);
        out.accept("writing " + result.curated().size() + " images to " + spec.out());
        Map<String, Object> extras = new LinkedHashMap<>();
        extras.put("source", spec.source().toString());
        extras.put("queries", spec.queries() == null ? null : spec.queries().toString());
        extras.put("target_size", spec.targetSize());
        if (!spec.exclude().isEmpty()) {
            extras.put("exclude", spec.exclude().stream().map(ExcludeSet::name).toList());
            extras.put("exclude_threshold", spec.excludeThreshold());
        }
        extras.put("embedder", embedder.id());
        extras.put("near_duplicate_threshold", cs.nearDuplicateThreshold());
        extras.put("seed", cs.seed());
        CuratedWriter.Written written;
        try (ObjectStores.Location dst = ObjectStores.open(spec.out(), ss, system)) {
            written = CuratedWriter.write(
                    system, src, dst, result, cs, extras, spec.workDir().resolve("shards-tmp"), null);
        }
        return new Outcome(result, pool, queries.keys().length, written, (System.nanoTime() - t0) / 1e9);
    }

    /**
     * The thumbnail side when the curation's copy-detection embedder is {@link CopyEmbedder} ({@code copy:SIDE}, found
     * by {@link AlignedCopyDetector}), else 0 (cosine of the embeddings, {@link CopyDetector}).
     *
     * @param embedder the curation's embedder, without the exclusion's thumbnails
     */
    public static int alignedSide(Embedder embedder) {
        Embedder copy = embedder instanceof CompositeEmbedder c ? c.copy() : embedder;
        return copy instanceof CopyEmbedder e ? e.side() : 0;
    }

    /**
     * The copy thumbnails of every image of the sets, named {@code SET #index}.
     *
     * @param ownColumns the pool's thumbnails are leading columns of their own ({@link Layout#excludeDims()}), not the
     *                   copy-detection ones
     */
    static Curation.Exclusion exclusion(
            List<ExcludeSet> sets, float threshold, boolean ownColumns, CurationSettings cs, Consumer<String> out) {
        CopyEmbedder e = new CopyEmbedder(EXCLUDE_SIDE);
        List<String> names = new ArrayList<>();
        int total = sets.stream().mapToInt(x -> x.images().size()).sum();
        float[] rows = new float[Math.multiplyExact(total, e.dim())];
        int at = 0;
        for (ExcludeSet set : sets) {
            out.accept("embedding the exclusion set " + set.name() + " ("
                    + set.images().size() + " images)");
            ImageDataset d = set.images();
            for (int i0 = 0; i0 < d.size(); i0 += EXCLUDE_BATCH) {
                List<RgbImage> batch = new ArrayList<>();
                for (int i = i0; i < Math.min(d.size(), i0 + EXCLUDE_BATCH); i++) {
                    batch.add(d.image(i));
                    names.add(set.name() + " #" + i);
                }
                float[] v = e.embed(batch);
                System.arraycopy(v, 0, rows, at, v.length);
                at += v.length;
            }
        }
        return new Curation.Exclusion(
                names.toArray(String[]::new),
                new FloatMatrix(total, e.dim(), rows),
                EXCLUDE_SIDE,
                ownColumns,
                new AlignedCopyDetector.Settings(16, threshold, cs.approximateAbove(), cs.nprobe()));
    }

    /** Ingests the query images in memory and returns their embeddings (decodable images, by key). */
    public static Curation.Queries embedQueries(
            ActorSystem system, StorageUri uri, Embedder embedder, CurationSettings cs, StorageSettings ss) {
        try (ObjectStores.Location loc = ObjectStores.open(uri, ss, system);
                Manifest m = Manifest.inMemory();
                EmbeddingStore emb = EmbeddingStore.inMemory(embedder.dim(), embedder.id())) {
            IngestRun.Result r = new IngestRun(system, loc, cs.ingest(), embedder, m, emb, null).run();
            List<ManifestEntry> images = new ArrayList<>();
            for (ManifestEntry e : r.entries()) {
                if (!e.isArchive()
                        && e.sha256() != null
                        && (e.state() == ObjectState.INGESTED || e.state() == ObjectState.EXACT_DUPLICATE)) {
                    images.add(e);
                }
            }
            images.sort(Comparator.comparing(ManifestEntry::key));
            String[] keys = images.stream().map(ManifestEntry::key).toArray(String[]::new);
            FloatMatrix v = FloatMatrix.ofRows(
                    images.stream().map(e -> emb.get(e.sha256())).toList(), embedder.dim());
            return new Curation.Queries(keys, v);
        }
    }
}
