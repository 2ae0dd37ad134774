package dev.dinoj.actors.curate;

import akka.actor.typed.ActorRef;
import com.typesafe.config.Config;
import dev.dinoj.actors.data.DataShard;
import dev.dinoj.actors.data.StorageSystem;
import dev.dinoj.pipeline.curate.CurateJob;
import dev.dinoj.pipeline.curate.CurationRecord;
import dev.dinoj.pipeline.curate.CurationSettings;
import dev.dinoj.pipeline.curate.PartitionMerge;
import dev.dinoj.pipeline.curate.Partitions;
import dev.dinoj.pipeline.curate.SelectionVectors;
import dev.dinoj.pipeline.curate.ShardedKMeans;
import dev.dinoj.pipeline.curate.ShardedSelection;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.embed.Embedder;
import dev.dinoj.pipeline.ingest.EmbeddingStore;
import dev.dinoj.pipeline.ingest.IngestRun;
import dev.dinoj.pipeline.ingest.IngestStats;
import dev.dinoj.pipeline.ingest.ManifestEntry;
import dev.dinoj.pipeline.shards.ShardStore;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import dev.dinoj.trainer.config.DatasetSpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The global stages of a cluster curation, run by {@link CurationDriver} on its own thread once every partition is
 * ingested: merge the partitions' manifests and the columns the driver holds, open the {@code exclude} sets, run
 * {@link CurateJob#finish} (in the heap, or with retrieval and clustering on the shards and the curation workers) and
 * write the {@link CurationRecord}.
 */
final class GlobalStages {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(GlobalStages.class);

    private GlobalStages() {}

    /**
     * {@code dinoj.actors.curation.distributed-clustering}: {@code on}, {@code off}, or {@code auto} = on unless the
     * copy-detection embedder is the retrieval one ({@code copy-embedder = same}: the driver then holds every column
     * for the copy detection anyway, and the in-heap stages give {@code dinoj curate}'s result at no extra memory).
     */
    static boolean distributedClustering(String value, CurateSpec spec) {
        return switch (value) {
            case "on" -> true;
            case "off" -> false;
            case "auto" -> !spec.copyEmbedder().equals("same");
            default ->
                throw new IllegalArgumentException(
                        "dinoj.actors.curation.distributed-clustering = " + value + ": use auto, on or off");
        };
    }

    /**
     * Runs on the driver's thread: merge the partitions and check the accounting ({@link PartitionMerge}), run the
     * global stages, write the curated set and the {@link CurationRecord}; returns the summary table.
     *
     * @param passes     the distributed k-means passes (retrieval and clustering on the shards), or null (in heap)
     * @param finishedBy for each partition, the node that ingested it
     * @param t0         when the curation started ({@link System#nanoTime()})
     */
    static String run(
            Config app,
            CurateSpec spec,
            Path runDir,
            int n,
            Set<String> keys,
            ActorRef<KMeansDriver.Command> passes,
            String[] finishedBy,
            long t0) {
        CurationSettings cs = CurationSettings.fromConfig(app);
        StorageSettings ss = StorageSettings.fromConfig(app);
        akka.actor.ActorSystem storage = StorageSystem.get(app);
        CurateJob.Layout layout = Embedders.layout(spec, 64);
        // the columns the driver holds with the distributed stages: the exclusion's and the copy detection's; none
        // (one, a placeholder) when the aligned copy detection and the exclusion run on the shards too
        boolean shardedCopies = passes != null && layout.alignedSide() > 0;
        int held = passes == null || layout.copyDims() == 0
                ? layout.embedder().dim()
                : shardedCopies ? 1 : layout.retrievalColumn();
        try (Embedder embedder = layout.embedder();
                EmbeddingStore merged = EmbeddingStore.inMemory(held, embedder.id());
                ObjectStores.Location src = ObjectStores.open(StorageUri.parse(spec.source()), ss, storage)) {
            List<CurateJob.ExcludeSet> exclude = excludeSets(spec, app);
            List<ManifestEntry> entries = PartitionMerge.merge(runDir, n, keys, spec.source(), merged, embedder.dim());
            log.info(
                    "Merged {} partitions: {} objects, {} manifest entries, {} embeddings of {} columns{}",
                    n,
                    keys.size(),
                    entries.size(),
                    merged.size(),
                    merged.dim(),
                    passes == null
                            ? ""
                            : shardedCopies
                                    ? " (exclusion, copy detection, retrieval and clustering on the shards and the"
                                            + " curation workers)"
                                    : " (retrieval and clustering on the shards and the curation workers)");
            SelectionVectors.Source vectors = null;
            if (passes != null) {
                ShardStore shards = ShardStore.local(Partitions.root(runDir));
                vectors = new ShardedSelection(
                        shards,
                        n,
                        entries,
                        selection -> KMeansDriver.backend(passes, shards, n, selection),
                        layout.retrievalColumn(),
                        ShardedKMeans.DEFAULT_BLOCK_ROWS,
                        shardedCopies
                                ? new ShardedSelection.Copies(
                                        layout.excludeDims(), layout.copyDims(), KMeansDriver.copyBackend(passes))
                                : null);
            }
            Path work = Partitions.root(runDir).resolve("driver");
            CurateJob.Spec job = new CurateJob.Spec(
                    StorageUri.parse(spec.source()),
                    spec.queries().isEmpty() ? null : StorageUri.parse(spec.queries()),
                    StorageUri.parse(spec.out()),
                    work,
                    spec.targetSize() > 0 ? spec.targetSize() : null,
                    exclude,
                    spec.excludeThreshold());
            CurateJob.Outcome o = CurateJob.finish(
                    storage,
                    job,
                    src,
                    new IngestRun.Result(entries, merged, new IngestStats().snapshot()),
                    merged,
                    layout,
                    vectors,
                    cs,
                    ss,
                    line -> log.info("curation: {}", line),
                    t0);
            String table = o.curation().summary().table();
            new CurationRecord(
                            spec.source(),
                            spec.out(),
                            spec.dataset(),
                            keys.size(),
                            entries.size(),
                            o.curation().curated().size(),
                            Arrays.asList(finishedBy),
                            (System.nanoTime() - t0) / 1e9)
                    .write(runDir, table);
            Path root = Partitions.root(runDir);
            CurationWorker.deleteTree(root.resolve("work")); // scratch of attempts whose worker died
            return table;
        } catch (IOException e) {
            throw new UncheckedIOException(Partitions.root(runDir) + ": cannot write the curation's record", e);
        }
    }

    /**
     * Opens the {@code exclude} sets of {@code spec} on this node (Fashion-MNIST from {@code
     * dinoj.actors.data.fashion-mnist-dir}, a curated S3 set fetched into the data cache directory).
     *
     * @throws IllegalArgumentException naming the set that cannot be opened or holds no image
     */
    static List<CurateJob.ExcludeSet> excludeSets(CurateSpec spec, Config app) {
        List<CurateJob.ExcludeSet> sets = new ArrayList<>();
        if (spec.exclude().length == 0) {
            return sets;
        }
        DataShard.Settings data = DataShard.Settings.fromConfig(app);
        for (String name : spec.exclude()) {
            ImageDataset images;
            try {
                images = DatasetSpec.parse(name, data.fashionMnistDir(), data.cacheDir())
                        .open(StorageSettings.fromConfig(app), StorageSystem.config(app));
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("curate.exclude " + name + ": " + e.getMessage(), e);
            }
            if (images.size() == 0) {
                throw new IllegalArgumentException("curate.exclude " + name + ": holds no images");
            }
            sets.add(new CurateJob.ExcludeSet(name, images));
        }
        return sets;
    }
}
