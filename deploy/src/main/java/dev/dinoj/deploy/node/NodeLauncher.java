package dev.dinoj.deploy.node;

import akka.actor.typed.ActorSystem;
import akka.http.javadsl.HttpsConnectionContext;
import akka.management.cluster.bootstrap.ClusterBootstrap;
import akka.management.javadsl.AkkaManagement;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import dev.dinoj.actors.ActorsConfig;
import dev.dinoj.actors.node.ClusterRuntime;
import dev.dinoj.actors.train.RunSpec;
import dev.dinoj.deploy.errors.UserError;
import dev.dinoj.deploy.management.ManagementTls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts a dinoj node in this JVM: the actor system with its roles, Akka Management HTTP and Cluster Bootstrap. */
public final class NodeLauncher {

    private static final Logger log = LoggerFactory.getLogger(NodeLauncher.class);

    /** The roles a node may have. */
    public static final Set<String> ROLES = Set.of("coordinator", "worker", "data", "curation");

    /** The actor system name every node of a dinoj cluster uses. */
    public static final String SYSTEM = "dinoj";

    private NodeLauncher() {}

    /** A started node. */
    public record Node(ActorSystem<Void> system, String managementUri) {}

    /**
     * The node's configuration: {@code file} (if given) over {@code dinoj/node.conf} over the reference configs, with
     * the roles and ports given here on top.
     *
     * @param roles          roles, or null to keep the file's
     * @param port           Artery port, or null
     * @param managementPort management HTTP port, or null
     */
    public static Config config(Path file, List<String> roles, Integer port, Integer managementPort) {
        Config user = ConfigFactory.empty();
        if (file != null) {
            if (!Files.isRegularFile(file)) {
                throw new UserError(
                        file + ": no such config file; pass a HOCON file to --config (see docs/CLUSTER.md)");
            }
            try {
                user = ConfigFactory.parseFile(
                        file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false));
            } catch (ConfigException e) {
                throw new UserError(file + ": " + e.getMessage());
            }
        }
        if (roles != null) {
            for (String r : roles) {
                if (!ROLES.contains(r)) {
                    throw new UserError("--roles " + String.join(",", roles) + ": unknown role '" + r + "'; use "
                            + "coordinator, worker, data, curation");
                }
            }
            user = user.withValue("akka.cluster.roles", ConfigValueFactory.fromIterable(roles));
        }
        if (port != null) {
            user = user.withValue("akka.remote.artery.canonical.port", ConfigValueFactory.fromAnyRef(port));
        }
        if (managementPort != null) {
            user = user.withValue("akka.management.http.port", ConfigValueFactory.fromAnyRef(managementPort));
        }
        Config base = ConfigFactory.parseResources(NodeLauncher.class.getClassLoader(), "dinoj/node.conf");
        try {
            Config all = ConfigFactory.defaultOverrides()
                    .withFallback(user)
                    .withFallback(base)
                    .withFallback(ActorsConfig.runtimeDefaults()) // over every jar's reference.conf, whatever the order
                    .withFallback(ConfigFactory.defaultReference())
                    .resolve();
            for (String r : all.getStringList("akka.cluster.roles")) {
                if (!ROLES.contains(r)) {
                    throw new UserError((file != null ? file + ": " : "") + "akka.cluster.roles: unknown role '" + r
                            + "'; use coordinator, worker, data, curation");
                }
            }
            return all;
        } catch (ConfigException e) {
            throw new UserError((file != null ? file + ": " : "") + e.getMessage());
        }
    }

    /** Starts the node and its management HTTP; joins or forms the cluster through bootstrap (or seed nodes). */
    public static Node start(Config config) {
        if (config.getStringList("akka.cluster.roles").contains("coordinator")) {
            try {
                RunSpec spec = RunSpec.fromConfig(config);
                if (spec.hasRun()) {
                    spec.load(); // a bad run config fails here, once, not in the singleton
                }
            } catch (RuntimeException e) {
                throw new UserError("dinoj.actors.coordinator: " + e.getMessage());
            }
        }
        ActorSystem<Void> system = ActorSystem.create(ClusterRuntime.guardian(), SYSTEM, config);
        if (log.isDebugEnabled()) {
            log.debug("dinoj config: {}", config.getConfig("dinoj").root().render(ConfigRenderOptions.concise()));
        }
        String uri;
        try {
            ManagementTls.Settings tls = ManagementTls.fromConfig(config);
            HttpsConnectionContext https =
                    tls == null ? null : ManagementTls.install(system, ManagementTls.sslContext(tls));
            uri = AkkaManagement.get(system)
                    .start(settings -> https == null ? settings : settings.withHttpsConnectionContext(https))
                    .toCompletableFuture()
                    .get(60, TimeUnit.SECONDS)
                    .toString();
        } catch (UserError e) {
            system.terminate();
            throw e;
        } catch (Exception e) {
            system.terminate();
            throw new UserError("akka.management.http: cannot bind " + config.getString("akka.management.http.hostname")
                    + ":" + config.getInt("akka.management.http.port") + " (" + rootCause(e) + "); choose a free "
                    + "--management-port");
        }
        if (config.getBoolean("dinoj.node.bootstrap")) {
            ClusterBootstrap.get(system).start();
        }
        log.info(
                "Node up: {} roles {} management {}",
                system.address(),
                config.getStringList("akka.cluster.roles"),
                uri);
        return new Node(system, uri);
    }

    /** Blocks until the node's actor system terminates (downed, left, or stopped). */
    public static void awaitTermination(Node node) throws InterruptedException {
        while (!node.system().getWhenTerminated().toCompletableFuture().isDone()) {
            Thread.sleep(Duration.ofMillis(500).toMillis());
        }
    }

    private static String rootCause(Throwable t) {
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.toString();
    }
}
