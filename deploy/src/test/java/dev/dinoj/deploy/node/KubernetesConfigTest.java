package dev.dinoj.deploy.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** deploy/k8s/node.conf resolves over the node defaults and selects Kubernetes API discovery, which is on the class path. */
class KubernetesConfigTest {

    static Path repo() {
        return Path.of(System.getProperty("dinoj.repo.root", ".."));
    }

    @Test
    void shouldUseKubernetesApiDiscoveryOnThePodIp() throws Exception {
        Path file = repo().resolve("deploy/k8s/node.conf");
        assertTrue(Files.isRegularFile(file), file.toString());
        System.setProperty("POD_IP", "10.1.2.3");
        try {
            ConfigFactory.invalidateCaches();
            Config c = NodeLauncher.config(file, List.of("coordinator", "worker", "data"), null, null);
            assertEquals(
                    "kubernetes-api",
                    c.getString("akka.management.cluster.bootstrap.contact-point-discovery.discovery-method"));
            assertEquals("10.1.2.3", c.getString("akka.management.http.hostname"));
            assertEquals("10.1.2.3", c.getString("akka.remote.artery.canonical.hostname"));
            String impl = c.getString("akka.discovery.kubernetes-api.class");
            Class.forName(impl); // the discovery implementation ships with the node
        } finally {
            System.clearProperty("POD_IP");
            ConfigFactory.invalidateCaches();
        }
        String rbac = Files.readString(repo().resolve("deploy/k8s/rbac.yaml"));
        assertTrue(rbac.contains("resources: [\"pods\"]") && rbac.contains("\"list\""), rbac);
        String sts = Files.readString(repo().resolve("deploy/k8s/statefulset.yaml"));
        assertTrue(sts.contains("path: /ready, port: management"), sts);
    }
}
