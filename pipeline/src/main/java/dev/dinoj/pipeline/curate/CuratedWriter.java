package dev.dinoj.pipeline.curate;

import akka.actor.ActorSystem;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import com.fasterxml.jackson.core.JsonProcessingException;
import dev.dinoj.pipeline.ingest.Decoder;
import dev.dinoj.pipeline.ingest.ImageEncoding;
import dev.dinoj.pipeline.ingest.IngestSettings;
import dev.dinoj.pipeline.ingest.Manifest;
import dev.dinoj.pipeline.ingest.ManifestEntry;
import dev.dinoj.pipeline.storage.ObjectStore;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * Writes a curated dataset to a local directory or an S3 prefix:
 *
 * <pre>
 * &lt;out&gt;/shards/shard-000000.tar   ustar archives of the kept images, members {@code <i:08d>.<format>}: the source's
 *                                bytes, or a JPEG re-encoding when the shorter side is over {@code store.max-side}
 *                                ({@link StoredImage}); IDX archive members are encoded as PNG
 * &lt;out&gt;/index.jsonl               one {@link CuratedIndexEntry} per kept image, in curated order (by key)
 * &lt;out&gt;/manifest.jsonl            every source object's final {@link ManifestEntry}
 * &lt;out&gt;/summary.json              counts and settings; written last, so its presence marks a complete dataset
 * </pre>
 *
 * The kept images are read again from the source (in key order, a bounded number at once); a changed object
 * (other SHA-256 than at ingestion) fails the write.
 */
public final class CuratedWriter {
    private CuratedWriter() {}

    /**
     * What was written.
     *
     * @param images images in the shards
     * @param shards shard files
     * @param bytes  image bytes in the shards
     */
    public record Written(int images, int shards, long bytes) {}

    /** One kept image's bytes as stored. */
    private record Payload(ManifestEntry entry, StoredImage.Stored stored) {}

    /**
     * Writes {@code result} to {@code out}, reading kept images from {@code source}.
     *
     * @param tmp      local scratch directory for shards before upload
     * @param progress receives images written so far (may be null)
     */
    public static Written write(
            ActorSystem system,
            ObjectStores.Location source,
            ObjectStores.Location out,
            Curation.Result result,
            CurationSettings s,
            Map<String, Object> summaryExtras,
            Path tmp,
            Consumer<Integer> progress) {
        try {
            Files.createDirectories(tmp);
            out.store().ensureContainer().toCompletableFuture().join();
            List<ManifestEntry> kept = result.curated();
            IngestSettings is = s.ingest();
            ArchiveCache cache = new ArchiveCache(source.store(), is);
            List<CuratedIndexEntry> index = new ArrayList<>(kept.size());
            int[] shardCount = {0};
            long[] bytes = {0};
            TarShardWriter[] writer = {null};
            Path[] shardFile = {null};
            String[] shardName = {null};
            Map<String, String> checksums = new LinkedHashMap<>();
            int[] done = {0};
            Source.from(kept)
                    .mapAsync(
                            Math.max(1, is.downloadParallelism()), e -> fetch(source.store(), cache, e, is, s.store()))
                    .runWith(
                            Sink.foreach(p -> {
                                int i = done[0];
                                if (i % s.shardImages() == 0) {
                                    if (writer[0] != null) {
                                        writer[0].close();
                                        checksums.put(shardName[0], CuratedDataset.sha256(shardFile[0]));
                                        upload(out, shardName[0], shardFile[0]);
                                    }
                                    shardName[0] = CuratedDataset.shardName(shardCount[0]++);
                                    shardFile[0] = tmp.resolve(
                                            String.format(Locale.ROOT, "shard-%06d.tar", shardCount[0] - 1));
                                    writer[0] = new TarShardWriter(shardFile[0]);
                                }
                                StoredImage.Stored st = p.stored();
                                String member = String.format(Locale.ROOT, "%08d.%s", i, extension(st.format()));
                                long offset = writer[0].add(member, st.data());
                                bytes[0] += st.data().length;
                                ManifestEntry e = p.entry();
                                index.add(new CuratedIndexEntry(
                                        i,
                                        e.key(),
                                        shardName[0],
                                        offset,
                                        st.data().length,
                                        st.format(),
                                        e.sha256(),
                                        e.cluster(),
                                        e.why(),
                                        st.width(),
                                        st.height(),
                                        st.source()));
                                done[0]++;
                                if (progress != null) {
                                    progress.accept(done[0]);
                                }
                            }),
                            system)
                    .toCompletableFuture()
                    .join();
            if (writer[0] != null) {
                writer[0].close();
                checksums.put(shardName[0], CuratedDataset.sha256(shardFile[0]));
                upload(out, shardName[0], shardFile[0]);
            }
            byte[] indexLines = jsonLines(index);
            checksums.put(CuratedDataset.INDEX, CuratedDataset.sha256(indexLines));
            put(out, CuratedDataset.INDEX, indexLines);
            put(out, "manifest.jsonl", Manifest.toJsonLines(result.manifest()));
            Map<String, Object> summary = new LinkedHashMap<>();
            Curation.Summary sm = result.summary();
            Map<String, Long> states = new LinkedHashMap<>();
            sm.states().forEach((k, v) -> states.put(k.id(), v));
            summary.put("format", "dinoj-curated/1");
            summary.put("images", index.size());
            summary.put("shards", shardCount[0]);
            summary.put("states", states);
            summary.put("archives", sm.archives());
            summary.put("pool", sm.pool());
            summary.put("deduplicated", sm.deduplicated());
            summary.put("copy_groups", sm.copyComponents());
            summary.put("cluster_levels", sm.clusterLevels());
            summary.put("selection", sm.mode());
            summary.put("retrieved_per_query", sm.retrievedPerQuery());
            summary.put("sha256", checksums); // checked by CuratedDataset.fetch
            if (summaryExtras != null) {
                summary.putAll(summaryExtras);
            }
            put(
                    out,
                    "summary.json",
                    Manifest.JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(summary));
            return new Written(index.size(), shardCount[0], bytes[0]);
        } catch (IOException e) {
            throw new UncheckedIOException("writing the curated dataset to " + out.uri() + " failed", e);
        } catch (CompletionException e) {
            Throwable c = StorageException.unwrap(e);
            throw c instanceof RuntimeException re ? re : new IllegalStateException(c);
        }
    }

    private static String extension(String format) {
        return format.equals("jpeg") ? "jpg" : format;
    }

    private static void upload(ObjectStores.Location out, String name, Path file) throws IOException {
        out.store()
                .putFile(out.key(name), file, "application/x-tar")
                .toCompletableFuture()
                .join();
        Files.deleteIfExists(file);
    }

    private static void put(ObjectStores.Location out, String name, byte[] data) {
        out.store()
                .put(
                        out.key(name),
                        data,
                        name.endsWith(".json") || name.endsWith(".jsonl")
                                ? "application/json"
                                : "application/octet-stream")
                .toCompletableFuture()
                .join();
    }

    private static byte[] jsonLines(List<CuratedIndexEntry> index) throws JsonProcessingException {
        StringBuilder sb = new StringBuilder();
        for (CuratedIndexEntry e : index) {
            sb.append(Manifest.JSON.writeValueAsString(e)).append('\n');
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static CompletionStage<Payload> fetch(
            ObjectStore store, ArchiveCache cache, ManifestEntry e, IngestSettings is, StoreSettings st) {
        String archive = ManifestEntry.archiveOf(e.key());
        if (archive != null && "idx".equals(e.format())) {
            return cache.archive(archive).thenApply(a -> {
                int m = ManifestEntry.memberIndexOf(e.key());
                if (m < 0 || m >= a.count() || !a.memberSha(m).equals(e.sha256())) {
                    throw new IllegalStateException(e.key() + ": the archive changed since ingestion; curate again");
                }
                return new Payload(
                        e,
                        new StoredImage.Stored(
                                ImageEncoding.pngGray(a.cols(), a.rows(), a.data(), a.offset() + m * a.memberBytes()),
                                "png",
                                a.cols(),
                                a.rows(),
                                null));
            });
        }
        return store.get(e.key(), is.maxObjectBytes()).thenApply(b -> {
            if (!Decoder.sha256(b.data()).equals(e.sha256())) {
                throw new IllegalStateException(
                        store.uriOf(e.key()) + ": the object changed since ingestion; curate again");
            }
            return new Payload(e, StoredImage.store(store.uriOf(e.key()).toString(), b.data(), e.format(), st, is));
        });
    }

    /** The last archive read (members arrive in key order, so one archive at a time). */
    private static final class ArchiveCache {
        private final ObjectStore store;
        private final IngestSettings settings;
        private String key;
        private CompletableFuture<Decoder.Archive> value;

        ArchiveCache(ObjectStore store, IngestSettings settings) {
            this.store = store;
            this.settings = settings;
        }

        synchronized CompletionStage<Decoder.Archive> archive(String archiveKey) {
            if (!archiveKey.equals(key)) {
                key = archiveKey;
                value = store.get(archiveKey, settings.maxObjectBytes())
                        .thenApply(b -> {
                            Decoder.Outcome o = Decoder.decode(b.data(), settings);
                            if (!(o instanceof Decoder.Archive a)) {
                                throw new IllegalStateException(store.uriOf(archiveKey) + ": no longer an IDX archive");
                            }
                            return a;
                        })
                        .toCompletableFuture();
            }
            return value;
        }
    }
}
