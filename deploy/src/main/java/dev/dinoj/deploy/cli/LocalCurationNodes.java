package dev.dinoj.deploy.cli;

import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.JoinSeedNodes;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.actors.ActorsConfig;
import dev.dinoj.deploy.node.LocalCluster;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Option;

/**
 * The options and the start of the local curation nodes of the scale benchmarks ({@code bench curation-scale},
 * {@code bench copy-scale}): {@code --nodes} JVMs of role {@code curation} ({@link LocalCluster}, {@code cluster up}
 * style), joined by a driver actor system in the command's JVM (role {@code bench}).
 */
final class LocalCurationNodes {
    @Option(
            names = "--nodes",
            defaultValue = "3",
            description = "curation nodes; 0 = this JVM (default ${DEFAULT-VALUE})")
    int nodes;

    @Option(names = "--node-heap", defaultValue = "2g", description = "heap of each node (default ${DEFAULT-VALUE})")
    String nodeHeap;

    @Option(names = "--port", defaultValue = "25620", description = "first Artery port of the nodes")
    int port;

    @Option(names = "--management-port", defaultValue = "25720", description = "first management port of the nodes")
    int managementPort;

    /** What runs against the driver system once it has asked to join the nodes. */
    interface Body<C, T> {
        T run(ActorSystem<C> driver) throws Exception;
    }

    /**
     * Starts the nodes (logs under {@code run/cluster}) and a driver system with guardian {@code driver}, joins it to
     * them, runs {@code body}, then stops the driver system and the nodes.
     */
    <C, T> T run(Path run, Behavior<C> driver, Body<C, T> body) throws Exception {
        try (LocalCluster cluster = LocalCluster.start(
                nodes, run.resolve("cluster"), List.of("curation"), null, port, managementPort, nodeHeap, List.of())) {
            ActorSystem<C> system = ActorSystem.create(driver, "dinoj", driverConfig());
            try {
                Cluster.get(system)
                        .manager()
                        .tell(new JoinSeedNodes(List.of(new akka.actor.Address("akka", "dinoj", "127.0.0.1", port))));
                System.err.printf(
                        Locale.ROOT, "dinoj: %d curation nodes starting (logs in %s)%n", nodes, cluster.dir());
                return body.run(system);
            } finally {
                system.terminate();
                system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
            }
        }
    }

    /** The driver system's config: loopback, a free port, role {@code bench}. */
    static Config driverConfig() {
        return ConfigFactory.parseString("akka.remote.artery.canonical.hostname = \"127.0.0.1\"\n"
                        + "akka.remote.artery.canonical.port = 0\n"
                        + "akka.cluster.roles = [bench]\n")
                .withFallback(ActorsConfig.runtimeDefaults())
                .withFallback(ConfigFactory.defaultReference())
                .resolve();
    }

    /** Sum of the heap pools' peaks of this JVM (an upper bound of its peak heap). */
    static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP && pool.getPeakUsage() != null) {
                sum += pool.getPeakUsage().getUsed();
            }
        }
        return sum;
    }
}
