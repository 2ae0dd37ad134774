package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.ingest.EmbeddingStore;
import dev.dinoj.pipeline.ingest.ManifestEntry;
import dev.dinoj.pipeline.ingest.ObjectState;
import dev.dinoj.pipeline.search.FloatMatrix;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The curation stages after ingestion, on the manifest and the embeddings:
 *
 * <ol>
 *   <li>exact duplicates: one object per content hash is kept, the smallest key;</li>
 *   <li>exclusion (with an {@link Exclusion}): pool images that {@link AlignedCopyMatch#matchAgainst} finds to be
 *       copies of a reference image (a benchmark's test split, the query set) end {@link ObjectState#EXCLUDED};</li>
 *   <li>near duplicates: {@link CopyDetector} over the embeddings of the remaining images;</li>
 *   <li>selection: with queries, {@link Retrieval} (sample- and cluster-based, union); with a target size,
 *       {@link HierarchicalKMeans} + {@link BalancedSampler} (over the retrieved images when there are queries);
 *       with neither, every deduplicated image is kept.</li>
 * </ol>
 * The result is deterministic for a given manifest, embeddings and seed, whatever order ingestion met the objects in.
 */
public final class Curation {
    private Curation() {}

    /**
     * Query images.
     *
     * @param keys    names (object keys)
     * @param vectors unit rows, one per key
     */
    public record Queries(String[] keys, FloatMatrix vectors) {
        public static Queries none(int dim) {
            return new Queries(new String[0], new FloatMatrix(0, dim, new float[0]));
        }
    }

    /**
     * Reference images the pool is deduplicated against ({@code curate --exclude}), as LVD-142M was against its
     * benchmarks. The pool's embeddings hold {@link dev.dinoj.pipeline.embed.CopyEmbedder} thumbnails of the same
     * {@code side} in their first {@code thumbnails.cols()} columns ({@link CurateJob#layout}): with {@code
     * ownColumns}, columns of their own that the layout {@code copyDims} describes follows; without, the
     * copy-detection columns themselves ({@code copy:SIDE}, compared by the aligned detector), read by both stages.
     *
     * @param names      one per reference image, named in the excluded entries' reasons
     * @param thumbnails the reference images' copy thumbnails, one row per name
     * @param side       the thumbnails' side
     * @param ownColumns whether the pool's thumbnails are leading columns of their own
     * @param settings   candidate retrieval and verification threshold
     */
    public record Exclusion(
            String[] names,
            FloatMatrix thumbnails,
            int side,
            boolean ownColumns,
            AlignedCopyDetector.Settings settings) {
        public Exclusion {
            if (names.length != thumbnails.rows() || thumbnails.cols() != side * side) {
                throw new IllegalArgumentException("exclusion: " + names.length + " names for " + thumbnails.rows()
                        + " thumbnails of " + thumbnails.cols() + " columns (side " + side + ")");
            }
        }
    }

    /**
     * The outcome.
     *
     * @param manifest every entry with its final state and, for pool images, clusters, kept and why; sorted by key
     * @param curated  the kept entries, sorted by key
     * @param summary  counts for the table
     */
    public record Result(List<ManifestEntry> manifest, List<ManifestEntry> curated, Summary summary) {}

    /**
     * Counts of a curation.
     *
     * @param states           final entries per state (archive lines excluded)
     * @param archives         expanded archives
     * @param pool             distinct ingested images (after exact dedup)
     * @param deduplicated     images left after near-duplicate removal
     * @param copyComponents   groups of near-duplicate images
     * @param clusterLevels    clusters per hierarchy level (finest first), or the cluster-based retrieval's k
     * @param retrievedPerQuery pool images brought in by each query
     * @param kept             images in the curated set
     * @param mode             how the set was selected
     * @param seconds          time of the stages
     */
    public record Summary(
            Map<ObjectState, Long> states,
            long archives,
            int pool,
            int deduplicated,
            int copyComponents,
            int[] clusterLevels,
            Map<String, Integer> retrievedPerQuery,
            int kept,
            String mode,
            double seconds) {

        /** A plain-text table: counts per state, then selection figures. */
        public String table() {
            StringBuilder sb = new StringBuilder();
            long total = states.values().stream().mapToLong(Long::longValue).sum();
            sb.append(String.format(Locale.ROOT, "%-22s %10s%n", "state", "objects"));
            for (Map.Entry<ObjectState, Long> e : states.entrySet()) {
                sb.append(String.format(Locale.ROOT, "%-22s %10d%n", e.getKey().id(), e.getValue()));
            }
            sb.append(String.format(Locale.ROOT, "%-22s %10d%n", "total", total));
            if (archives > 0) {
                sb.append(String.format(
                        Locale.ROOT, "%-22s %10d  (their images are counted above)%n", "archives expanded", archives));
            }
            sb.append(String.format(Locale.ROOT, "%n%-22s %10d%n", "pool (exact-deduped)", pool));
            sb.append(String.format(
                    Locale.ROOT, "%-22s %10d  (%d copy groups)%n", "after near-dedup", deduplicated, copyComponents));
            sb.append(String.format(
                    Locale.ROOT,
                    "%-22s %10s%n",
                    "clusters per level",
                    clusterLevels.length == 0 ? "-" : Arrays.toString(clusterLevels)));
            sb.append(String.format(Locale.ROOT, "%-22s %10s%n", "selection", mode));
            if (!retrievedPerQuery.isEmpty()) {
                int shown = 0;
                for (Map.Entry<String, Integer> e : retrievedPerQuery.entrySet()) {
                    if (shown++ == 10) {
                        sb.append(String.format(Locale.ROOT, "  ... %d more queries%n", retrievedPerQuery.size() - 10));
                        break;
                    }
                    sb.append(String.format(Locale.ROOT, "  retrieved by %-30s %6d%n", e.getKey(), e.getValue()));
                }
            }
            sb.append(String.format(Locale.ROOT, "%-22s %10d%n", "kept (curated)", kept));
            sb.append(String.format(Locale.ROOT, "%-22s %10.1f%n", "curation seconds", seconds));
            return sb.toString();
        }
    }

    /**
     * Curates.
     *
     * @param entries    the ingestion manifest
     * @param embeddings embeddings by content hash (every ingested entry's must be there)
     * @param queries    query images (may be empty)
     * @param targetSize size of the curated set, or null for "as selected"
     * @param copyDims   the first {@code copyDims} columns are the copy-detection embedding, the rest the retrieval
     *                   embedding ({@link CompositeEmbedder}); 0 = one embedding for both
     * @param s          settings
     * @param progress   receives one line per stage (may be null)
     */
    public static Result run(
            List<ManifestEntry> entries,
            EmbeddingStore embeddings,
            Queries queries,
            Integer targetSize,
            int copyDims,
            CurationSettings s,
            Consumer<String> progress) {
        return run(entries, embeddings, queries, targetSize, copyDims, null, s, progress);
    }

    /**
     * Curates, first dropping the pool images that are copies of {@code exclusion}'s images.
     *
     * @param exclusion reference images, or null (then as {@link #run(List, EmbeddingStore, Queries, Integer, int,
     *                  CurationSettings, Consumer)})
     */
    public static Result run(
            List<ManifestEntry> entries,
            EmbeddingStore embeddings,
            Queries queries,
            Integer targetSize,
            int copyDims,
            Exclusion exclusion,
            CurationSettings s,
            Consumer<String> progress) {
        return run(entries, embeddings, queries, targetSize, copyDims, 0, exclusion, null, s, progress);
    }

    /**
     * Curates, the selection stages (retrieval, hierarchical k-means) over the retrieval embeddings {@code vectors}
     * gives.
     *
     * @param embeddings as above, or, with {@code vectors}, only the leading {@code copyDims} copy-detection columns
     *                   (the exclusion's thumbnails before them), or fewer still (one column is enough) when {@code
     *                   vectors} also run the aligned copy detection ({@link SelectionVectors#alignedCopies}) and
     *                   there is no exclusion
     * @param alignedSide the copy-detection columns are {@link dev.dinoj.pipeline.embed.CopyEmbedder} thumbnails of
     *                   this side, compared by {@link AlignedCopyDetector}; 0: by cosine ({@link CopyDetector})
     * @param vectors    the retrieval embeddings of the pool, or null for those of {@code embeddings}, in the heap
     */
    public static Result run(
            List<ManifestEntry> entries,
            EmbeddingStore embeddings,
            Queries queries,
            Integer targetSize,
            int copyDims,
            int alignedSide,
            Exclusion exclusion,
            SelectionVectors.Source vectors,
            CurationSettings s,
            Consumer<String> progress) {
        long t0 = System.nanoTime();
        Consumer<String> say = progress == null ? x -> {} : progress;

        // ---- 1. exact duplicates: the smallest key of each content hash is kept
        Map<String, ManifestEntry> byKey = new HashMap<>();
        Map<String, String> keeperBySha = new HashMap<>();
        List<ManifestEntry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparing(ManifestEntry::key));
        for (ManifestEntry e : sorted) {
            boolean image = !e.isArchive()
                    && e.sha256() != null
                    && (e.state() == ObjectState.INGESTED || e.state() == ObjectState.EXACT_DUPLICATE);
            if (image) {
                String keeper = keeperBySha.putIfAbsent(e.sha256(), e.key());
                e = keeper == null
                        ? e.withState(ObjectState.INGESTED, null, null)
                        : e.withState(ObjectState.EXACT_DUPLICATE, "same bytes as " + keeper, keeper);
            }
            byKey.put(e.key(), e);
        }

        // ---- 2. the pool: ingested images with embeddings, by key
        List<ManifestEntry> pool = new ArrayList<>();
        for (ManifestEntry e : sorted) {
            ManifestEntry f = byKey.get(e.key());
            if (f.state() == ObjectState.INGESTED && !f.isArchive()) {
                if (embeddings.get(f.sha256()) == null) {
                    throw new IllegalStateException(f.key() + ": ingested but no embedding for content " + f.sha256()
                            + "; delete the work directory's embeddings and manifest to start afresh");
                }
                pool.add(f);
            }
        }
        int d = embeddings.dim();
        FloatMatrix all = FloatMatrix.ofRows(
                pool.stream().map(e -> embeddings.get(e.sha256())).toList(), d);
        int distinct = pool.size();
        say.accept(String.format(Locale.ROOT, "pool: %d distinct images of %d entries", pool.size(), entries.size()));

        // ---- 2b. exclusion: copies of the reference images leave the pool
        int off = 0;
        if (exclusion != null) {
            int cols = exclusion.thumbnails().cols();
            if (exclusion.ownColumns()) {
                off = cols;
            } else if (alignedSide != exclusion.side() || (copyDims != 0 && copyDims != cols)) {
                throw new IllegalArgumentException("exclusion: the copy-detection columns (" + copyDims
                        + ", aligned side " + alignedSide + ") are not the exclusion's copy:" + exclusion.side()
                        + " thumbnails");
            }
            // on the shards where the pool's thumbnails live there (the cluster's curation), else in this heap
            FloatMatrix inHeap = all;
            AlignedCopyMatch.Match m = (vectors == null
                            ? java.util.Optional.<AlignedCopyMatch.Match>empty()
                            : vectors.of(pool).excluded(exclusion.thumbnails(), exclusion.side(), exclusion.settings()))
                    .orElseGet(() -> AlignedCopyMatch.matchAgainst(
                            inHeap.columns(0, cols), exclusion.thumbnails(), exclusion.side(), exclusion.settings()));
            List<ManifestEntry> rest = new ArrayList<>();
            List<Integer> restRows = new ArrayList<>();
            for (int i = 0; i < pool.size(); i++) {
                ManifestEntry e = pool.get(i);
                int ref = m.refOf()[i];
                if (ref < 0) {
                    rest.add(e);
                    restRows.add(i);
                } else {
                    byKey.put(
                            e.key(),
                            e.withState(
                                    ObjectState.EXCLUDED,
                                    String.format(
                                            Locale.ROOT,
                                            "copy of excluded %s (score %.3f >= %.3f)",
                                            exclusion.names()[ref],
                                            m.score()[i],
                                            exclusion.settings().threshold()),
                                    null));
                }
            }
            say.accept(String.format(
                    Locale.ROOT,
                    "exclusion: %d of %d pool images are copies of the %d reference images (threshold %.3f)",
                    pool.size() - rest.size(),
                    pool.size(),
                    exclusion.names().length,
                    exclusion.settings().threshold()));
            pool = rest;
            all = all.select(restRows.stream().mapToInt(Integer::intValue).toArray());
        }
        FloatMatrix pooled = all;
        int copyFrom = off;
        // the copy-detection columns, read only where the detection runs in this heap
        java.util.function.Supplier<FloatMatrix> xCopy =
                () -> copyDims > 0 ? pooled.columns(copyFrom, copyFrom + copyDims) : pooled.columns(copyFrom, d);
        // null: the embeddings hold the copy-detection columns only, the retrieval ones are in {@code vectors}
        FloatMatrix x = off + copyDims < d ? all.columns(off + copyDims, d) : null;
        FloatMatrix qv =
                queries.vectors().columns(off + copyDims, queries.vectors().cols());
        if (vectors == null && x == null) {
            throw new IllegalArgumentException("the embeddings have no retrieval columns after the " + copyDims
                    + " copy-detection ones, and no other vectors were given");
        }
        SelectionVectors sel = vectors == null ? SelectionVectors.inHeap(x) : vectors.of(pool);

        // ---- 3. near duplicates
        boolean aligned = alignedSide > 0;
        float threshold = aligned ? s.alignedThreshold() : s.nearDuplicateThreshold();
        AlignedCopyDetector.Settings alignedSettings =
                new AlignedCopyDetector.Settings(s.nearDuplicateK(), threshold, s.approximateAbove(), s.nprobe());
        java.util.Optional<CopyDetector.Result> elsewhere =
                aligned ? sel.alignedCopies(alignedSide, alignedSettings) : java.util.Optional.empty();
        CopyDetector.Result copies = elsewhere.isPresent()
                ? elsewhere.get()
                : aligned
                        ? AlignedCopyDetector.detect(xCopy.get(), alignedSide, alignedSettings, null)
                        : CopyDetector.detect(
                                xCopy.get(),
                                new CopyDetector.Settings(
                                        s.nearDuplicateK(), threshold, s.approximateAbove(), s.nprobe()),
                                null);
        List<Integer> keptIdx = new ArrayList<>();
        for (int i = 0; i < pool.size(); i++) {
            if (copies.isKept(i)) {
                keptIdx.add(i);
            } else {
                ManifestEntry e = pool.get(i);
                String rep = pool.get(copies.representative()[i]).key();
                String how = aligned
                        ? String.format(Locale.ROOT, "aligned copy, verification score %.3f", copies.similarity()[i])
                        : String.format(Locale.ROOT, "cosine %.3f >= %.3f", copies.similarity()[i], threshold);
                byKey.put(e.key(), e.withState(ObjectState.NEAR_DUPLICATE, "copy of " + rep + " (" + how + ")", rep));
            }
        }
        int[] dedup = keptIdx.stream().mapToInt(Integer::intValue).toArray();
        say.accept(String.format(
                Locale.ROOT,
                "near duplicates: %d images in %d copy groups removed (%s %.4f, k %d)",
                copies.duplicates(),
                copies.components(),
                aligned ? "aligned copy:" + alignedSide + ", normalised score" : "cosine",
                threshold,
                s.nearDuplicateK()));

        // ---- 4. selection (indices into dedup)
        Map<Integer, String> why = new LinkedHashMap<>();
        Map<Integer, int[]> clusterOf = new HashMap<>();
        Map<String, Integer> perQuery = new LinkedHashMap<>();
        int[] levels = new int[0];
        String mode;
        int[] candidates;
        if (queries.vectors().rows() > 0) {
            Retrieval.Result r = sel.retrieve(
                    dedup,
                    qv,
                    queries.keys(),
                    new Retrieval.Settings(
                            s.retrievalPerQuery(),
                            s.retrievalPerCluster(),
                            s.retrievalClusters(),
                            s.kmeansIterations(),
                            s.approximateAbove(),
                            s.nprobe(),
                            s.seed()));
            for (int q = 0; q < queries.keys().length; q++) {
                perQuery.put(queries.keys()[q], r.perQueryCount()[q]);
            }
            if (r.poolClusters() != null) {
                for (int i = 0; i < dedup.length; i++) {
                    clusterOf.put(i, new int[] {r.poolClusters()[i]});
                }
                levels = new int[] {Arrays.stream(r.poolClusters()).max().orElse(-1) + 1};
            }
            candidates = r.reasons().keySet().stream()
                    .mapToInt(Integer::intValue)
                    .sorted()
                    .toArray();
            for (int c : candidates) {
                why.put(c, r.reasons().get(c));
            }
            mode = String.format(
                    Locale.ROOT,
                    "retrieval (%d queries: %d nearest + %d of the cluster each)",
                    queries.keys().length,
                    s.retrievalPerQuery(),
                    s.retrievalPerCluster());
            say.accept(String.format(
                    Locale.ROOT,
                    "retrieval: %d pool images around %d queries",
                    candidates.length,
                    queries.keys().length));
        } else {
            candidates = new int[dedup.length];
            for (int i = 0; i < dedup.length; i++) {
                candidates[i] = i;
                why.put(i, "deduplicated");
            }
            mode = "all deduplicated images";
        }
        if (targetSize != null && candidates.length > targetSize) {
            int[] rows = Arrays.stream(candidates).map(c -> dedup[c]).toArray();
            HierarchicalKMeans.Settings hs = s.hierarchyLevels().length > 0
                    ? new HierarchicalKMeans.Settings(
                            s.hierarchyLevels(),
                            s.kmeansIterations(),
                            s.resamples(),
                            null,
                            s.resampleStrategy(),
                            s.seed())
                    : HierarchicalKMeans.Settings.auto(
                            rows.length, s.kmeansIterations(), s.resamples(), s.resampleStrategy(), s.seed());
            HierarchicalKMeans.Hierarchy h = sel.cluster(rows, hs, say);
            levels = new int[h.depth()];
            for (int l = 1; l <= h.depth(); l++) {
                levels[l - 1] = h.level(l).centroids().rows();
            }
            int[] picked = BalancedSampler.sample(h, targetSize, s.samplePick(), s.seed());
            Map<Integer, String> balanced = new LinkedHashMap<>();
            for (int i = 0; i < candidates.length; i++) {
                clusterOf.put(candidates[i], h.path(i));
            }
            for (int p : picked) {
                int c = candidates[p];
                String prior = why.get(c);
                String path = Arrays.toString(h.path(p)).replace(" ", "");
                balanced.put(
                        c,
                        "balanced:" + path + (prior == null || prior.equals("deduplicated") ? "" : " after " + prior));
            }
            why = balanced;
            candidates = balanced.keySet().stream()
                    .mapToInt(Integer::intValue)
                    .sorted()
                    .toArray();
            mode = mode + String.format(Locale.ROOT, ", then balanced hierarchical sampling to %d", targetSize);
            say.accept(String.format(
                    Locale.ROOT,
                    "balanced sampling: %d of %d images over %s clusters",
                    candidates.length,
                    rows.length,
                    Arrays.toString(levels)));
        }

        // ---- 5. manifest with selections
        List<ManifestEntry> curated = new ArrayList<>();
        for (int i = 0; i < dedup.length; i++) {
            ManifestEntry e = pool.get(dedup[i]);
            String reason = why.get(i);
            boolean kept = reason != null;
            ManifestEntry f = e.withSelection(clusterOf.get(i), kept, reason);
            byKey.put(e.key(), f);
            if (kept) {
                curated.add(f);
            }
        }
        List<ManifestEntry> manifest = new ArrayList<>(byKey.values());
        manifest.sort(Comparator.comparing(ManifestEntry::key));
        curated.sort(Comparator.comparing(ManifestEntry::key));

        Map<ObjectState, Long> states = new EnumMap<>(ObjectState.class);
        for (ObjectState st : ObjectState.values()) {
            states.put(st, 0L);
        }
        long archives = 0;
        for (ManifestEntry e : manifest) {
            if (e.isArchive()) {
                archives++;
            } else {
                states.merge(e.state(), 1L, Long::sum);
            }
        }
        Summary summary = new Summary(
                states,
                archives,
                distinct,
                dedup.length,
                copies.components(),
                levels,
                perQuery,
                curated.size(),
                mode,
                (System.nanoTime() - t0) / 1e9);
        return new Result(manifest, curated, summary);
    }
}
