package dev.dinoj.deploy.cli;

import dev.dinoj.deploy.errors.UserError;
import dev.dinoj.deploy.node.ClusterDemo;
import dev.dinoj.deploy.node.LocalCluster;
import dev.dinoj.deploy.node.NodeLauncher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dinoj cluster up --nodes N}: a local cluster of N node JVMs on loopback. */
@Command(
        name = "cluster",
        mixinStandardHelpOptions = true,
        description = "Local clusters.",
        subcommands = {ClusterCommand.Up.class})
public final class ClusterCommand implements Runnable {

    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(
            name = "up",
            mixinStandardHelpOptions = true,
            description = {
                "Start N node JVMs on 127.0.0.1 (node i: Artery port P+i, management port M+i; they find each "
                        + "other through config discovery), wait until all are Up, print their endpoints, and keep them "
                        + "running until Ctrl-C (or --detach)."
            })
    static final class Up implements Callable<Integer> {

        @Option(names = "--nodes", defaultValue = "3", description = "number of node JVMs (default 3)")
        int nodes;

        @Option(
                names = "--roles",
                split = ",",
                defaultValue = "coordinator,worker,data",
                description = "roles of every node (default coordinator,worker,data)")
        List<String> roles = new ArrayList<>();

        @Option(names = "--config", description = "HOCON file every node includes (run, data, token)")
        Path config;

        @Option(
                names = "--dir",
                defaultValue = "dinoj-cluster",
                description = "directory for cluster.conf and node logs")
        Path dir;

        @Option(names = "--port", defaultValue = "2551", description = "Artery port of node 0 (default 2551)")
        int port;

        @Option(
                names = "--management-port",
                defaultValue = "8558",
                description = "management port of node 0 (default 8558)")
        int managementPort;

        @Option(names = "--heap", defaultValue = "3g", description = "heap of every node JVM (default 3g)")
        String heap;

        @Option(names = "--detach", description = "leave the nodes running and exit (stop them with kill PID)")
        boolean detach;

        @Option(
                names = "--demo",
                description = "a whole curate-then-train run on the local cluster: start an S3 server "
                        + "on loopback, upload a Fashion-MNIST pool (with planted duplicates, noise and corrupt objects) and query "
                        + "images to it, start the nodes with the curation role added, submit a run that curates the pool on the "
                        + "nodes' curation workers and trains fmnist-pico on the result, and follow it to the end")
        boolean demo;

        @Option(names = "--pool", defaultValue = "2000", description = "--demo: pool images (default ${DEFAULT-VALUE})")
        int pool;

        @Option(names = "--target-size", defaultValue = "0", description = "--demo: curated set size (0 = pool / 2)")
        int targetSize;

        @Option(
                names = "--steps",
                defaultValue = "20",
                description = "--demo: training steps (default ${DEFAULT-VALUE})")
        long steps;

        @Option(
                names = "--fashion-mnist-dir",
                defaultValue = "/usr/share/datasets/fashion-mnist",
                description = "--demo: Fashion-MNIST IDX files (else the subset shipped in the jar)")
        Path fashionMnistDir;

        @Override
        public Integer call() throws Exception {
            if (nodes < 1 || nodes > 64) {
                throw new UserError("--nodes " + nodes + ": use 1..64");
            }
            if (config != null && !config.toFile().isFile()) {
                throw new UserError(config + ": no such config file (--config)");
            }
            NodeLauncher.config(config, roles, port, managementPort); // validate once, here
            if (demo) {
                if (detach) {
                    throw new UserError("--demo runs the S3 server in this process: it cannot --detach");
                }
                if (pool < 50 || steps < 1) {
                    throw new UserError("--demo needs --pool >= 50 and --steps >= 1");
                }
                return ClusterDemo.demo(new ClusterDemo.DemoOptions(
                        nodes,
                        roles,
                        config,
                        dir,
                        port,
                        managementPort,
                        heap,
                        fashionMnistDir,
                        pool,
                        targetSize,
                        steps));
            }
            LocalCluster c = LocalCluster.start(nodes, dir, roles, config, port, managementPort, heap, List.of());
            Thread hook = new Thread(c::close, "dinoj-cluster-down");
            if (!detach) {
                Runtime.getRuntime().addShutdownHook(hook);
            }
            try {
                c.awaitReady(Duration.ofMinutes(3));
            } catch (IllegalStateException e) {
                c.close();
                throw new UserError(e.getMessage());
            }
            System.out.println("cluster up: " + nodes + " nodes (roles " + String.join(",", roles) + ")");
            System.out.printf("%-5s %-8s %-7s %-26s %s%n", "node", "pid", "artery", "management", "log");
            for (LocalCluster.NodeProcess p : c.nodes()) {
                System.out.printf(
                        "%-5d %-8d %-7d %-26s %s%n",
                        p.index(), p.process().pid(), p.port(), p.managementUri(), p.log());
            }
            System.out.println("try: curl " + c.nodes().get(0).managementUri() + "/cluster/members");
            if (detach) {
                return 0;
            }
            for (LocalCluster.NodeProcess p : c.nodes()) {
                p.process().waitFor();
            }
            return 0;
        }
    }
}
