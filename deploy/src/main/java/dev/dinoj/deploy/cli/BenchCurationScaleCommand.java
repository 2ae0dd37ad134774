package dev.dinoj.deploy.cli;

import akka.actor.typed.ActorRef;
import akka.actor.typed.javadsl.Behaviors;
import dev.dinoj.actors.curate.KMeansDriver;
import dev.dinoj.deploy.errors.UserError;
import dev.dinoj.pipeline.curate.HierarchicalKMeans;
import dev.dinoj.pipeline.curate.PartitionAssignments;
import dev.dinoj.pipeline.curate.Partitions;
import dev.dinoj.pipeline.curate.ShardedHierarchicalKMeans;
import dev.dinoj.pipeline.curate.ShardedKMeans;
import dev.dinoj.pipeline.shards.ShardStore;
import dev.dinoj.pipeline.shards.SyntheticPool;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code dinoj bench curation-scale}: the sharded hierarchical k-means of curation's global stages over a synthetic
 * embeddings-only pool (float16 shards, partitioned), on a local cluster of curation nodes or in this JVM.
 */
@Command(
        name = "curation-scale",
        mixinStandardHelpOptions = true,
        description = {
            "Generate a synthetic embeddings-only pool (N unit vectors from a mixture of Gaussians, float16 shards in "
                    + "P partitions under DIR/curation/parts) and run the sharded 4-level hierarchical k-means over it: "
                    + "on --nodes local curation nodes (JVMs of --node-heap, each assigning partitions' shards and "
                    + "returning per-centroid sums to the driver in this JVM), or in this JVM with --nodes 0. Prints "
                    + "objects/s per node, end-to-end time and peak heap per node as a table and one JSON line."
        })
public final class BenchCurationScaleCommand implements Callable<Integer> {

    @Option(names = "--n", defaultValue = "1000000", description = "embeddings (default ${DEFAULT-VALUE})")
    long n;

    @Option(names = "--dim", defaultValue = "384", description = "dimension (default ${DEFAULT-VALUE})")
    int dim;

    @Option(
            names = "--centers",
            defaultValue = "2000",
            description = "Gaussians of the mixture (default ${DEFAULT-VALUE})")
    int centers;

    @Option(names = "--noise", defaultValue = "0.04", description = "noise per coordinate (default ${DEFAULT-VALUE})")
    double noise;

    @Option(names = "--partitions", defaultValue = "12", description = "partitions (default ${DEFAULT-VALUE})")
    int partitions;

    @Option(
            names = "--levels",
            defaultValue = "1000,200,50,10",
            split = ",",
            description = "clusters per level, level 1 first (default ${DEFAULT-VALUE})")
    int[] levels;

    @Option(names = "--iterations", defaultValue = "10", description = "k-means iterations (default ${DEFAULT-VALUE})")
    int iterations;

    @Option(
            names = "--resamples",
            defaultValue = "10",
            description = "resampling steps of levels 2+ (default ${DEFAULT-VALUE})")
    int resamples;

    @Mixin
    LocalCurationNodes cluster = new LocalCurationNodes();

    @Option(names = "--dir", description = "run directory (default: a new one under the temp directory)")
    Path dir;

    @Option(names = "--seed", defaultValue = "1", description = "random seed (default ${DEFAULT-VALUE})")
    long seed;

    private double clusterSeconds;

    @Override
    public Integer call() throws Exception {
        if (n < 1 || dim < 1 || partitions < 1 || cluster.nodes < 0 || levels.length == 0 || iterations < 0) {
            throw new UserError("bench curation-scale: --n, --dim, --partitions must be >= 1, --nodes >= 0");
        }
        Path run = dir != null ? dir : Files.createTempDirectory("dinoj-curation-scale-");
        Path root = Partitions.root(run);
        ShardStore store = ShardStore.local(root);
        long t0 = System.nanoTime();
        SyntheticPool.Spec spec = new SyntheticPool.Spec(n, dim, centers, noise, partitions, 16_384, seed);
        System.err.printf(
                Locale.ROOT, "dinoj: writing %d embeddings (d %d) in %d partitions to %s%n", n, dim, partitions, root);
        SyntheticPool.write(store, spec, Partitions::embeddings);
        double generate = (System.nanoTime() - t0) / 1e9;
        HierarchicalKMeans.Settings s = new HierarchicalKMeans.Settings(
                levels, iterations, resamples, null, HierarchicalKMeans.Strategy.CLOSEST, seed);
        long t1 = System.nanoTime();
        List<KMeansDriver.NodeStats> stats;
        HierarchicalKMeans.Hierarchy h;
        if (cluster.nodes == 0) {
            ShardedKMeans.Local local = new ShardedKMeans.Local(store, partitions, ShardedKMeans.DEFAULT_BLOCK_ROWS);
            h = ShardedHierarchicalKMeans.fit(
                    local, store, partitions, s, line -> System.err.println("dinoj: " + line));
            double secs = (System.nanoTime() - t1) / 1e9;
            stats = List.of(
                    new KMeansDriver.NodeStats("this JVM", n * (iterations + 1L), secs, LocalCurationNodes.peakHeap()));
        } else {
            KMeansDriver.Result r = onCluster(run, root, s);
            if (r.error() != null) {
                throw new IllegalStateException(r.error());
            }
            h = r.hierarchy();
            stats = r.nodes();
            clusterSeconds = r.seconds();
        }
        double kmeans = cluster.nodes == 0 ? (System.nanoTime() - t1) / 1e9 : clusterSeconds;
        double inertia = levelOneInertia(store);
        StringBuilder table = new StringBuilder();
        table.append(
                String.format(Locale.ROOT, "%-34s %14s %12s %14s%n", "node", "objects/s", "busy s", "peak heap MiB"));
        StringBuilder json = new StringBuilder();
        json.append(String.format(
                Locale.ROOT,
                "{\"bench\":\"curation-scale\",\"n\":%d,\"dim\":%d,\"partitions\":%d,\"nodes\":%d,\"levels\":\"%s\","
                        + "\"iterations\":%d,\"generate_seconds\":%.1f,\"kmeans_seconds\":%.1f,\"end_to_end_seconds\":%.1f,"
                        + "\"objects_per_s\":%.0f,\"level1_inertia\":%.6g,\"driver_peak_heap_mib\":%d,\"per_node\":[",
                n,
                dim,
                partitions,
                cluster.nodes,
                Arrays.toString(levels).replace(" ", ""),
                iterations,
                generate,
                kmeans,
                (System.nanoTime() - t0) / 1e9,
                n * (iterations + 1.0) / kmeans,
                inertia,
                LocalCurationNodes.peakHeap() >> 20));
        for (int i = 0; i < stats.size(); i++) {
            KMeansDriver.NodeStats st = stats.get(i);
            double perS = st.rows() / Math.max(1e-9, st.busySeconds());
            table.append(String.format(
                    Locale.ROOT,
                    "%-34s %14.0f %12.1f %14d%n",
                    st.node(),
                    perS,
                    st.busySeconds(),
                    st.peakHeapBytes() >> 20));
            json.append(String.format(
                    Locale.ROOT,
                    "%s{\"node\":\"%s\",\"objects_per_s\":%.0f,\"busy_seconds\":%.1f," + "\"peak_heap_mib\":%d}",
                    i == 0 ? "" : ",",
                    st.node(),
                    perS,
                    st.busySeconds(),
                    st.peakHeapBytes() >> 20));
        }
        json.append("]}");
        System.out.printf(
                Locale.ROOT,
                "sharded hierarchical k-means: %d x %d, %d partitions, levels %s, %d iterations, %d node(s)%n",
                n,
                dim,
                partitions,
                Arrays.toString(levels),
                iterations,
                cluster.nodes);
        System.out.printf(
                Locale.ROOT,
                "generate %.1f s, k-means %.1f s (from the first pass; nodes started before) (%.0f objects/s over %d passes), end to end %.1f s, "
                        + "level-1 inertia %.6g, driver peak heap %d MiB%n",
                generate,
                kmeans,
                n * (iterations + 1.0) / kmeans,
                iterations + 1,
                (System.nanoTime() - t0) / 1e9,
                inertia,
                LocalCurationNodes.peakHeap() >> 20);
        System.out.print(table);
        System.out.println(json);
        return 0;
    }

    /** The level-1 inertia from the assignment files the last pass wrote. */
    private double levelOneInertia(ShardStore store) throws Exception {
        double sum = 0;
        var parts = ShardedKMeans.open(store, partitions);
        for (int p = 0; p < partitions; p++) {
            var a = PartitionAssignments.read(
                    store, Partitions.assignments(p), parts.get(p).rows());
            for (float d : a.distance()) {
                sum += d;
            }
        }
        return sum;
    }

    private KMeansDriver.Result onCluster(Path run, Path root, HierarchicalKMeans.Settings s) throws Exception {
        CompletableFuture<KMeansDriver.Result> done = new CompletableFuture<>();
        return cluster.run(
                run,
                Behaviors.<Void>setup(ctx -> {
                    ActorRef<KMeansDriver.Result> listener = ctx.spawn(
                            Behaviors.<KMeansDriver.Result>receiveMessage(r -> {
                                done.complete(r);
                                return Behaviors.stopped();
                            }),
                            "bench-listener");
                    ctx.spawn(
                            KMeansDriver.create(
                                    root.toString(),
                                    partitions,
                                    s,
                                    ShardedKMeans.DEFAULT_BLOCK_ROWS,
                                    cluster.nodes,
                                    2,
                                    listener),
                            "kmeans-driver");
                    return Behaviors.empty();
                }),
                system -> done.get(6, TimeUnit.HOURS));
    }
}
