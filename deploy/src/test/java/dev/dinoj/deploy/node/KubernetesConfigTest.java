package dev.dinoj.deploy.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.deploy.management.ManagementTls;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * deploy/k8s: node.conf resolves over the node defaults and selects Kubernetes API discovery, which is on the class
 * path; and the example is closed (issue #17 item 9): Artery over mutually authenticated TLS and management over HTTPS
 * with the key store of the Secret the StatefulSet mounts, GET routes behind the token, probes over HTTPS, and a
 * NetworkPolicy that admits only the StatefulSet's own pods, and only to the ports node.conf uses.
 */
class KubernetesConfigTest {

    static final String SECRET_MOUNT = "/etc/dinoj-tls";

    static Path repo() {
        return Path.of(System.getProperty("dinoj.repo.root", ".."));
    }

    private Config config;

    @BeforeEach
    void resolve() {
        System.setProperty("POD_IP", "10.1.2.3");
        System.setProperty("DINOJ_TLS_PASSWORD", "from-the-secret");
        ConfigFactory.invalidateCaches();
        Path file = repo().resolve("deploy/k8s/node.conf");
        assertTrue(Files.isRegularFile(file), file.toString());
        config = NodeLauncher.config(file, List.of("coordinator", "worker", "data"), null, null);
    }

    @AfterEach
    void clear() {
        System.clearProperty("POD_IP");
        System.clearProperty("DINOJ_TLS_PASSWORD");
        ConfigFactory.invalidateCaches();
    }

    static List<Map<String, Object>> yaml(String name) throws IOException {
        List<Map<String, Object>> docs = new ArrayList<>();
        for (Object doc :
                new Yaml().loadAll(Files.readString(repo().resolve("deploy/k8s").resolve(name)))) {
            docs.add(map(doc));
        }
        return docs;
    }

    static Map<String, Object> kind(String file, String kind) throws IOException {
        return yaml(file).stream()
                .filter(d -> kind.equals(d.get("kind")))
                .findFirst()
                .orElseThrow(() -> new AssertionError(file + " has no " + kind));
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object o) {
        assertTrue(o instanceof Map, String.valueOf(o));
        return (Map<String, Object>) o;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object o) {
        assertTrue(o instanceof List, String.valueOf(o));
        return (List<Object>) o;
    }

    /** {@code root.a.b.c} of nested maps. */
    static Object at(Map<String, Object> root, String path) {
        Object o = root;
        for (String key : path.split("\\.")) {
            o = map(o).get(key);
            assertNotNull(o, path + ": no " + key);
        }
        return o;
    }

    @Test
    void shouldUseKubernetesApiDiscoveryOnThePodIp() throws Exception {
        assertEquals(
                "kubernetes-api",
                config.getString("akka.management.cluster.bootstrap.contact-point-discovery.discovery-method"));
        assertEquals("10.1.2.3", config.getString("akka.management.http.hostname"));
        assertEquals("10.1.2.3", config.getString("akka.remote.artery.canonical.hostname"));
        Class.forName(config.getString("akka.discovery.kubernetes-api.class")); // ships with the node
        String rbac = Files.readString(repo().resolve("deploy/k8s/rbac.yaml"));
        assertTrue(rbac.contains("resources: [\"pods\"]") && rbac.contains("\"list\""), rbac);
    }

    @Test
    void shouldRunArteryOverMutualTlsAndManagementOverHttpsWithTheSecretsKeyStore() throws Exception {
        assertEquals("tls-tcp", config.getString("akka.remote.artery.transport"));
        Config ssl = config.getConfig("akka.remote.artery.ssl.config-ssl-engine");
        assertEquals(SECRET_MOUNT + "/node.p12", ssl.getString("key-store"));
        assertEquals(SECRET_MOUNT + "/node.p12", ssl.getString("trust-store"));
        for (String k : new String[] {"key-store-password", "key-password", "trust-store-password"}) {
            assertEquals("from-the-secret", ssl.getString(k), k + " comes from the Secret, not the file");
        }
        assertTrue(ssl.getBoolean("require-mutual-authentication"));
        assertEquals("TLSv1.3", ssl.getString("protocol"));
        SSLContext tls13 = SSLContext.getInstance("TLSv1.3");
        tls13.init(null, null, null);
        List<String> suites = List.of(tls13.getSupportedSSLParameters().getCipherSuites());
        for (String suite : ssl.getStringList("enabled-algorithms")) {
            assertTrue(suites.contains(suite), suite + " is not a cipher suite of this JVM");
        }

        ManagementTls.Settings https = ManagementTls.fromConfig(config);
        assertNotNull(https, "dinoj.node.management-https.enabled");
        assertEquals(Path.of(SECRET_MOUNT, "node.p12"), https.keyStore());
        assertEquals("from-the-secret", new String(https.keyStorePassword()));
        assertEquals("TLSv1.3", https.protocol());
        assertFalse(
                config.getBoolean("akka.discovery.kubernetes-api.use-raw-ip"),
                "contact points by pod DNS name, which the certificate names");

        assertFalse(config.getBoolean("dinoj.node.open-read-routes"), "GET routes behind the token");
    }

    @Test
    void shouldMountTheTlsSecretAndProbeOverHttps() throws Exception {
        Map<String, Object> pod = map(at(kind("statefulset.yaml", "StatefulSet"), "spec.template.spec"));
        Map<String, Object> container = map(list(pod.get("containers")).get(0));

        Map<String, Object> mount = list(container.get("volumeMounts")).stream()
                .map(KubernetesConfigTest::map)
                .filter(m -> SECRET_MOUNT.equals(m.get("mountPath")))
                .findFirst()
                .orElseThrow(() -> new AssertionError("nothing mounted at " + SECRET_MOUNT));
        assertEquals(Boolean.TRUE, mount.get("readOnly"));
        Map<String, Object> volume = list(pod.get("volumes")).stream()
                .map(KubernetesConfigTest::map)
                .filter(v -> mount.get("name").equals(v.get("name")))
                .findFirst()
                .orElseThrow();
        assertEquals("dinoj-tls", at(volume, "secret.secretName"));
        assertEquals(0440, at(volume, "secret.defaultMode"), "readable by the pod's group only");
        assertEquals(10001, at(pod, "securityContext.fsGroup"), "the image's user reads it through its group");

        Map<String, Object> password = list(container.get("env")).stream()
                .map(KubernetesConfigTest::map)
                .filter(e -> "DINOJ_TLS_PASSWORD".equals(e.get("name")))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no DINOJ_TLS_PASSWORD"));
        assertEquals("dinoj-tls", at(password, "valueFrom.secretKeyRef.name"));

        for (String probe : new String[] {"readinessProbe", "livenessProbe"}) {
            assertEquals("HTTPS", at(container, probe + ".httpGet.scheme"), probe);
            assertEquals("management", at(container, probe + ".httpGet.port"), probe);
        }
        assertEquals("/ready", at(container, "readinessProbe.httpGet.path"));
    }

    @Test
    void shouldAdmitOnlyTheStatefulSetsPodsToItsPorts() throws Exception {
        Map<String, Object> policy = kind("networkpolicy.yaml", "NetworkPolicy");
        Map<String, Object> sts = kind("statefulset.yaml", "StatefulSet");
        Object podLabels = at(sts, "spec.template.metadata.labels");
        assertEquals(podLabels, at(policy, "spec.podSelector.matchLabels"), "applies to the StatefulSet's pods");
        assertEquals(List.of("Ingress"), at(policy, "spec.policyTypes"));

        Set<String> admitted = new TreeSet<>();
        for (Object o : list(at(policy, "spec.ingress"))) {
            Map<String, Object> rule = map(o);
            List<Object> from = list(rule.get("from"));
            assertFalse(from.isEmpty(), "a rule without from admits everyone");
            for (Object peer : from) {
                assertEquals(Set.of("podSelector"), map(peer).keySet(), "no namespace or ipBlock peers: " + peer);
                assertEquals(podLabels, at(map(peer), "podSelector.matchLabels"), "only the StatefulSet's pods");
            }
            for (Object port : list(rule.get("ports"))) {
                admitted.add(map(port).get("protocol") + "/" + map(port).get("port"));
            }
        }
        Set<String> used = new TreeSet<>(List.of(
                "TCP/" + config.getInt("akka.remote.artery.canonical.port"),
                "TCP/" + config.getInt("akka.management.http.port"),
                "UDP/" + config.getInt("dinoj.actors.worker.aeron-port")));
        assertEquals(Set.of("TCP/2551", "TCP/8558", "UDP/40100"), used);
        assertEquals(used, admitted, "exactly the ports node.conf uses");

        Set<String> declared = new TreeSet<>();
        for (Object o :
                list(map(list(at(sts, "spec.template.spec.containers")).get(0)).get("ports"))) {
            Map<String, Object> p = map(o);
            declared.add(p.getOrDefault("protocol", "TCP") + "/" + p.get("containerPort"));
        }
        assertEquals(used, declared, "the pod declares the same ports");
    }
}
