package dev.dinoj.deploy.management;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.deploy.errors.UserError;
import dev.dinoj.deploy.node.NodeLauncher;
import dev.dinoj.testkit.KeyStores;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Akka Management over HTTPS ({@code dinoj.node.management-https}): a node with a key made here by keytool
 * ({@link KeyStores}) serves its routes over https only, forms its cluster through Cluster Bootstrap probing its
 * (https) contact point, answers a client that trusts its certificate, and refuses plain HTTP and clients that do not
 * trust it; a missing key store is a clear error naming the key.
 */
@Timeout(180)
class ManagementHttpsTest {

    static Config node(int port, Path ks) {
        return ConfigFactory.parseString("akka.remote.artery.canonical.port = 0\n"
                        + "akka.coordinated-shutdown.exit-jvm = off\n"
                        + "akka.coordinated-shutdown.run-by-jvm-shutdown-hook = off\n"
                        + "akka.cluster.jmx.multi-mbeans-in-same-jvm = on\n"
                        + "dinoj.node.management-https { enabled = on, key-store = \"" + ks + "\", "
                        + "key-store-password = " + KeyStores.PASSWORD + " }\n"
                        + "akka.discovery.config.services.dinoj.endpoints = [{ host = \"127.0.0.1\", port = " + port
                        + " }]\n")
                .withFallback(NodeLauncher.config(null, List.of("data"), null, port));
    }

    @Test
    void shouldServeManagementOverHttpsAndFormTheClusterThroughHttpsBootstrap(@TempDir Path tmp) throws Exception {
        Path ks = KeyStores.selfSigned(tmp, "node");
        int port = ManagementRoutesTest.freePort();
        NodeLauncher.Node node = NodeLauncher.start(node(port, ks));
        try {
            assertTrue(node.managementUri().startsWith("https://"), node.managementUri());
            SSLContext trusting = ManagementTls.sslContext(ManagementTls.fromConfig(node(port, ks)));
            HttpClient client = HttpClient.newBuilder()
                    .sslContext(trusting)
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();
            URI members = URI.create("https://127.0.0.1:" + port + "/cluster/members");
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            HttpResponse<String> ready;
            do {
                ready = client.send(
                        HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + port + "/ready"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (ready.statusCode() != 200) {
                    assertTrue(System.nanoTime() < deadline, "not ready over https: " + ready.body());
                    Thread.sleep(300);
                }
            } while (ready.statusCode() != 200);
            // bootstrap found this node's https contact point and formed the cluster
            JsonNode m = new ObjectMapper()
                    .readTree(client.send(HttpRequest.newBuilder(members).build(), HttpResponse.BodyHandlers.ofString())
                            .body());
            assertEquals(1, m.get("members").size(), m.toString());
            assertEquals("Up", m.get("members").get(0).get("status").asText(), m.toString());

            // plain HTTP on the same port gets no answer
            HttpClient plain = HttpClient.newBuilder()
                    .connectTimeout(Duration.ofSeconds(5))
                    .build();
            assertThrows(
                    IOException.class,
                    () -> plain.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ready"))
                                    .timeout(Duration.ofSeconds(5))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString()));
            // a client that does not trust the node's certificate is refused in the handshake
            HttpClient stranger = HttpClient.newBuilder()
                    .sslContext(ManagementTls.sslContext(new ManagementTls.Settings(
                            KeyStores.selfSigned(tmp, "other"),
                            KeyStores.PASSWORD.toCharArray(),
                            tmp.resolve("other.p12"),
                            KeyStores.PASSWORD.toCharArray(),
                            "TLSv1.3")))
                    .build();
            assertThrows(
                    SSLHandshakeException.class,
                    () -> stranger.send(HttpRequest.newBuilder(members).build(), HttpResponse.BodyHandlers.ofString()));
        } finally {
            node.system().terminate();
            node.system().getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void shouldNameAMissingKeyStore(@TempDir Path tmp) {
        Path missing = tmp.resolve("nope.p12");
        Config c = node(1, missing);
        UserError e = assertThrows(UserError.class, () -> ManagementTls.sslContext(ManagementTls.fromConfig(c)));
        assertTrue(
                e.getMessage().contains("dinoj.node.management-https.key-store")
                        && e.getMessage().contains(missing.toString()),
                e.getMessage());
        assertTrue(Files.notExists(missing));
    }
}
