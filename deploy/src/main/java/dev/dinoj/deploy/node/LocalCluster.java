package dev.dinoj.deploy.node;

import dev.dinoj.trainer.collective.ChildJvm;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * N dinoj nodes as JVMs on loopback ({@code ./dinoj cluster up}, and the multi-JVM tests): node i gets Artery port
 * {@code port + i} and management port {@code managementPort + i}; a generated {@code cluster.conf} lists every
 * management endpoint for config discovery and requires all N before the cluster forms.
 */
public final class LocalCluster implements AutoCloseable {

    /** One node JVM. */
    public record NodeProcess(int index, int port, int managementPort, Process process, Path log) {
        public String managementUri() {
            return "http://127.0.0.1:" + managementPort;
        }
    }

    private final List<NodeProcess> nodes = new ArrayList<>();
    private final Path dir;

    private LocalCluster(Path dir) {
        this.dir = dir;
    }

    /**
     * Writes {@code dir/cluster.conf} and starts the nodes.
     *
     * @param userConfig a HOCON file every node includes (the run, the data, tokens), or null
     * @param jvmOptions extra JVM options of every node (e.g. {@code -Dkey=value})
     */
    public static LocalCluster start(
            int n,
            Path dir,
            List<String> roles,
            Path userConfig,
            int port,
            int managementPort,
            String heap,
            List<String> jvmOptions)
            throws IOException {
        if (n < 1) {
            throw new IllegalArgumentException("--nodes must be >= 1: " + n);
        }
        Files.createDirectories(dir);
        StringBuilder conf = new StringBuilder("# written by ./dinoj cluster up\n");
        // an accepted POST /training/submit survives the coordinator's node (the user config, included next, may
        // override it)
        conf.append("dinoj.actors.coordinator.state-dir = \"")
                .append(dir.toAbsolutePath().resolve("state"))
                .append("\"\n");
        // submitted runs may have their directories in ./runs (the default) and in this cluster's folder (--demo)
        conf.append("dinoj.actors.coordinator.run-roots = [\"")
                .append(Path.of("runs").toAbsolutePath())
                .append("\", \"")
                .append(dir.toAbsolutePath())
                .append("\"]\n");
        // the nodes' management binds 127.0.0.1: status and metrics readable without the token, as ./dinoj status and
        // the printed curl lines expect (the user config may turn it off)
        conf.append("dinoj.node.open-read-routes = on\n");
        if (userConfig != null) {
            conf.append("include file(\"").append(userConfig.toAbsolutePath()).append("\")\n");
        }
        conf.append("akka.management.cluster.bootstrap.contact-point-discovery.required-contact-point-nr = ")
                .append(n)
                .append("\nakka.discovery.config.services.dinoj.endpoints = [\n");
        for (int i = 0; i < n; i++) {
            conf.append("  { host = \"127.0.0.1\", port = ")
                    .append(managementPort + i)
                    .append(" }\n");
        }
        conf.append("]\n");
        Path confFile = dir.resolve("cluster.conf");
        Files.writeString(confFile, conf);
        LocalCluster c = new LocalCluster(dir);
        List<String> jvm = withThreads(jvmOptions, n, Runtime.getRuntime().availableProcessors());
        try {
            for (int i = 0; i < n; i++) {
                c.nodes.add(c.launch(i, roles, confFile, port + i, managementPort + i, heap, jvm));
            }
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /**
     * The nodes share this machine's cores: unless {@code jvmOptions} set {@code ai.djl.pytorch.num_threads}, each node
     * gets {@code cores / n} PyTorch threads (at least 1) and one inter-op thread, as {@code train --ranks N} gives its
     * ranks. N JVMs that each spin {@code cores} OpenMP threads run many times slower than N times slower.
     */
    static List<String> withThreads(List<String> jvmOptions, int n, int cores) {
        List<String> out = new ArrayList<>(jvmOptions);
        if (jvmOptions.stream().noneMatch(o -> o.startsWith("-Dai.djl.pytorch.num_threads="))) {
            out.add("-Dai.djl.pytorch.num_threads=" + Math.max(1, cores / n));
            if (jvmOptions.stream().noneMatch(o -> o.startsWith("-Dai.djl.pytorch.num_interop_threads="))) {
                out.add("-Dai.djl.pytorch.num_interop_threads=1");
            }
        }
        return out;
    }

    private NodeProcess launch(int i, List<String> roles, Path conf, int port, int mport, String heap, List<String> jvm)
            throws IOException {
        List<String> cmd = new ArrayList<>(ChildJvm.command(
                heap,
                NodeCommand.class.getName(),
                List.of(
                        "--roles",
                        String.join(",", roles),
                        "--config",
                        conf.toString(),
                        "--port",
                        Integer.toString(port),
                        "--management-port",
                        Integer.toString(mport))));
        cmd.addAll(1, jvm);
        Path log = dir.resolve("node-" + i + ".log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        return new NodeProcess(i, port, mport, pb.start(), log);
    }

    public List<NodeProcess> nodes() {
        return nodes;
    }

    public Path dir() {
        return dir;
    }

    /** Waits until every node answers 200 on {@code /ready} (member Up), or throws naming the first node that did not. */
    public void awaitReady(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (NodeProcess p : nodes) {
            while (get(p.managementUri() + "/ready") != 200) {
                if (!p.process().isAlive()) {
                    throw new IllegalStateException(
                            "node " + p.index() + " exited with " + p.process().exitValue() + "; see " + p.log());
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException(
                            "node " + p.index() + " not ready after " + timeout.toSeconds() + " s; see " + p.log());
                }
                Thread.sleep(500);
            }
        }
    }

    /** HTTP GET status code (-1 if the node does not answer). */
    public static int get(String uri) {
        try {
            HttpClient client = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(2))
                    .build();
            return client.send(
                            HttpRequest.newBuilder(URI.create(uri))
                                    .timeout(Duration.ofSeconds(5))
                                    .GET()
                                    .build(),
                            HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** SIGKILL of node {@code i} (no shutdown hooks, no leaving: the cluster must notice and down it). */
    public void kill(int i) throws InterruptedException {
        Process p = nodes.get(i).process();
        p.destroyForcibly();
        p.waitFor();
    }

    @Override
    public void close() {
        for (NodeProcess p : nodes) {
            p.process().destroyForcibly();
        }
        for (NodeProcess p : nodes) {
            try {
                p.process().waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
