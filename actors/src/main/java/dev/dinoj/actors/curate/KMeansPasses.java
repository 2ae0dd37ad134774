package dev.dinoj.actors.curate;

import com.typesafe.config.Config;
import dev.dinoj.actors.data.StorageSystem;
import dev.dinoj.pipeline.curate.ShardedCopyDetection;
import dev.dinoj.pipeline.curate.ShardedKMeans;
import dev.dinoj.pipeline.search.FloatMatrix;
import dev.dinoj.pipeline.shards.ShardStore;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;

/** The worker's side of the sharded k-means: one partition's pass, and where a curation root's shards live. */
final class KMeansPasses {
    private KMeansPasses() {}

    /** A shard store and what to close after it. */
    record Opened(ShardStore store, AutoCloseable resource) implements AutoCloseable {
        @Override
        public void close() throws Exception {
            if (resource != null) {
                resource.close();
            }
        }
    }

    /** The curation root {@code root}: an {@code s3://} prefix (through the node's storage settings) or a directory. */
    static Opened open(String root, Config app) throws IOException {
        if (root.startsWith("s3://")) {
            StorageSettings ss = StorageSettings.fromConfig(app);
            ObjectStores.Location loc = ObjectStores.open(StorageUri.parse(root), ss, StorageSystem.get(app));
            Path tmp = Files.createTempDirectory("dinoj-shards-");
            return new Opened(ShardStore.objectStore(loc, tmp), loc);
        }
        return new Opened(ShardStore.local(Path.of(root)), null);
    }

    /** Runs on the worker's curation thread. */
    static KMeansDriver.Command run(CurationWorker.AssignPass m, String node, Config app) {
        long t0 = System.nanoTime();
        return withStore(m.root(), app, store -> {
            FloatMatrix c = new FloatMatrix(m.k(), m.dim(), m.centroids());
            String selection = m.selection() == null || m.selection().isEmpty() ? null : m.selection();
            ShardedKMeans.Partial p =
                    ShardedKMeans.assignPartition(store, m.partition(), selection, c, m.last(), m.blockRows());
            return new KMeansDriver.PassPartial(
                    m.pass(),
                    m.partition(),
                    node,
                    p.k(),
                    p.d(),
                    p.sums(),
                    p.counts(),
                    p.inertia(),
                    (System.nanoTime() - t0) / 1e9,
                    peakHeapBytes());
        });
    }

    /** Runs on the worker's curation thread: the partition's answer as the sums of a one-centroid partial. */
    static KMeansDriver.Command runCopy(CurationWorker.CopyPass m, String node, Config app) {
        long t0 = System.nanoTime();
        return withStore(m.root(), app, store -> {
            double[] r = ShardedCopyDetection.run(
                    store,
                    m.partitions(),
                    m.partition(),
                    new ShardedCopyDetection.Task(
                            m.kind(),
                            m.side(),
                            m.candidates(),
                            m.whitening(),
                            m.blockRows(),
                            m.sampleRate(),
                            m.centroids(),
                            m.nprobe()));
            return new KMeansDriver.PassPartial(
                    m.pass(),
                    m.partition(),
                    node,
                    1,
                    r.length,
                    r,
                    new long[1],
                    0,
                    (System.nanoTime() - t0) / 1e9,
                    peakHeapBytes());
        });
    }

    /** A job on the shards of a curation root. */
    @FunctionalInterface
    private interface StoreJob {
        KMeansDriver.Command run(ShardStore store) throws IOException;
    }

    /** Opens the root, runs {@code job}, closes the root; I/O errors unchecked. */
    private static KMeansDriver.Command withStore(String root, Config app, StoreJob job) {
        try (Opened o = open(root, app)) {
            return job.run(o.store());
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** The sum of the heap pools' peak usage since the JVM started (an upper bound of the peak heap). */
    static long peakHeapBytes() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
                sum += pool.getPeakUsage().getUsed();
            }
        }
        return sum;
    }
}
