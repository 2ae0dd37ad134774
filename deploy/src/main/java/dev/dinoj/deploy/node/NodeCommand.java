package dev.dinoj.deploy.node;

import dev.dinoj.deploy.errors.ExitCodes;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dinoj node --roles coordinator,worker --config FILE}: one cluster node in this JVM, until it is stopped. */
@Command(
        name = "node",
        mixinStandardHelpOptions = true,
        description = {
            "Start a cluster node (Akka Cluster, Cluster Bootstrap, Akka Management HTTP) and run until stopped.",
            "Roles: coordinator (the run's singleton), worker (a trainer worker), data (data-shard entities), curation.",
            "Management HTTP binds 127.0.0.1:8558 unless configured; see docs/CLUSTER.md."
        })
public final class NodeCommand implements Callable<Integer> {

    @Option(
            names = "--roles",
            split = ",",
            description = "comma-separated roles (default: the config's akka.cluster.roles)")
    List<String> roles;

    @Option(
            names = "--config",
            description = "HOCON file over the node defaults (dinoj/node.conf in the deploy jar): run, data, "
                    + "bootstrap, token")
    Path config;

    @Option(names = "--port", description = "Artery (remoting) port (default 2551)")
    Integer port;

    @Option(names = "--management-port", description = "Akka Management HTTP port (default 8558)")
    Integer managementPort;

    /**
     * A node JVM started by {@link LocalCluster}: the same command as {@code dinoj node}, with the same error
     * handling, without the rest of the CLI.
     */
    public static void main(String[] args) {
        System.exit(ExitCodes.withUserErrors(new CommandLine(new NodeCommand())).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        NodeLauncher.Node node = NodeLauncher.start(NodeLauncher.config(config, roles, port, managementPort));
        System.out.println("node up: " + node.system().address() + " management " + node.managementUri());
        NodeLauncher.awaitTermination(node);
        return 0;
    }
}
