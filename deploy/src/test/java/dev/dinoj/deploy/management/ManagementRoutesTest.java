package dev.dinoj.deploy.management;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.http.javadsl.Http;
import akka.http.javadsl.ServerBinding;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.deploy.cli.CliTestSupport;
import dev.dinoj.deploy.node.NodeLauncher;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance 4 (management part): a real node in this JVM (cluster of one, formed through Cluster Bootstrap with
 * config discovery), its management HTTP on loopback, the training routes, Prometheus metrics and the bearer token.
 */
@Timeout(180)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ManagementRoutesTest {

    static final String TOKEN = "s3cret-token";

    /** The node's run root: submitted run directories must lie below it. */
    @TempDir
    static Path runs;

    static NodeLauncher.Node node;
    static int port;
    static final HttpClient http = HttpClient.newHttpClient();
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void start() throws Exception {
        port = freePort();
        Config c = ConfigFactory.parseString("akka.remote.artery.canonical.port = 0\n"
                        + "akka.coordinated-shutdown.exit-jvm = off\n"
                        + "akka.coordinated-shutdown.run-by-jvm-shutdown-hook = off\n"
                        + "dinoj.node.management-token = \"" + TOKEN + "\"\n"
                        + "dinoj.actors.coordinator.run-roots = [\"" + runs + "\"]\n"
                        + "akka.discovery.config.services.dinoj.endpoints = [{ host = \"127.0.0.1\", port = " + port
                        + " }]\n")
                .withFallback(NodeLauncher.config(null, List.of("coordinator"), null, port));
        node = NodeLauncher.start(c);
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (get("/ready").statusCode() != 200) {
            assertTrue(
                    System.nanoTime() < deadline,
                    "node not ready: " + get("/ready").body());
            Thread.sleep(300);
        }
    }

    @AfterAll
    static void stop() {
        if (node != null) {
            node.system().terminate();
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /** GET with the token (dinoj's GET routes need it on this node). */
    static HttpResponse<String> get(String path) throws Exception {
        return get(port, path, "Bearer " + TOKEN);
    }

    static HttpResponse<String> get(int port, String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .GET();
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            return new FakeFailure(e).response();
        }
    }

    static HttpResponse<String> post(String path, String authorization) throws Exception {
        return post(path, null, authorization);
    }

    static HttpResponse<String> post(int port, String path, String authorization) throws Exception {
        return post(port, path, null, authorization);
    }

    static HttpResponse<String> post(String path, String json, String authorization) throws Exception {
        return post(port, path, json, authorization);
    }

    static HttpResponse<String> post(int port, String path, String json, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .POST(json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void shouldBindManagementToLoopbackByDefault() throws Exception {
        assertEquals(
                "127.0.0.1", NodeLauncher.config(null, null, null, null).getString("akka.management.http.hostname"));
        assertTrue(node.managementUri().startsWith("http://127.0.0.1:" + port), node.managementUri());
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000); // reachable on loopback
        }
        for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
                    assertThrows(
                            IOException.class,
                            () -> {
                                try (Socket s = new Socket()) {
                                    s.connect(new InetSocketAddress(a, port), 2000);
                                }
                            },
                            "management must not be reachable on " + a);
                }
            }
        }
    }

    @Test
    void shouldServeHealthMembersStatusAndMetrics() throws Exception {
        assertEquals(200, get("/alive").statusCode());
        HttpResponse<String> members = get("/cluster/members");
        assertEquals(200, members.statusCode());
        JsonNode m = JSON.readTree(members.body());
        assertEquals(1, m.get("members").size(), members.body());
        assertEquals("Up", m.get("members").get(0).get("status").asText());
        assertTrue(m.get("members").get(0).get("roles").toString().contains("coordinator"), members.body());

        HttpResponse<String> status = get("/training/status");
        assertEquals(200, status.statusCode(), status.body());
        assertEquals("idle", JSON.readTree(status.body()).get("phase").asText(), status.body());
        for (String p :
                new String[] {"/training/step", "/training/losses", "/training/checkpoints", "/training/workers"}) {
            HttpResponse<String> r = get(p);
            assertEquals(200, r.statusCode(), p + ": " + r.body());
            JSON.readTree(r.body());
        }
        HttpResponse<String> metrics = get("/metrics");
        assertEquals(200, metrics.statusCode());
        assertTrue(
                metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"),
                metrics.headers().toString());
        assertTrue(metrics.body().contains("# TYPE dinoj_training_step gauge"), metrics.body());
        assertTrue(metrics.body().contains("dinoj_cluster_members_up 1.0"), metrics.body());
        assertTrue(metrics.body().contains("dinoj_coordinator_reachable 1.0"), metrics.body());
    }

    @Test
    void shouldRejectMutatingRoutesWithoutTheRightToken() throws Exception {
        for (String p : new String[] {"/training/stop", "/training/checkpoint"}) {
            HttpResponse<String> none = post(p, null);
            assertEquals(401, none.statusCode(), none.body());
            assertTrue(none.body().contains("missing Authorization"), none.body());
            HttpResponse<String> wrong = post(p, "Bearer not-the-token");
            assertEquals(401, wrong.statusCode(), wrong.body());
            assertEquals(401, post(p, "Basic " + TOKEN).statusCode());
            assertEquals(401, post(p, "Bearer " + TOKEN + "x").statusCode());
            HttpResponse<String> right = post(p, "Bearer " + TOKEN);
            // authorised: the coordinator answers (no run here, so nothing to stop or checkpoint)
            assertEquals(409, right.statusCode(), right.body());
            assertTrue(
                    JSON.readTree(right.body()).get("message").asText().contains("no run in progress"), right.body());
        }
        assertEquals(4, get("/training/stop").statusCode() / 100, "GET of a mutating route must be refused");
        assertEquals(4, get(port, "/training/stop", null).statusCode() / 100);
    }

    /**
     * Issue #17 item 9: dinoj's GET routes need the token (401 without or with a wrong one) while
     * {@code dinoj.node.open-read-routes} is off, the default; with it on (the same routes of this node bound a second
     * time with the key on) they answer without one, and the POST routes still need it. Akka's health routes never do.
     */
    @Test
    void shouldKeepTheReadRoutesBehindTheTokenUnlessOpenReadRoutesIsOn() throws Exception {
        assertFalse(node.system().settings().config().getBoolean("dinoj.node.open-read-routes"), "off by default");
        String[] reads = {
            "/training/status",
            "/training/step",
            "/training/losses",
            "/training/checkpoints",
            "/training/workers",
            "/metrics"
        };
        for (String p : reads) {
            HttpResponse<String> none = get(port, p, null);
            assertEquals(401, none.statusCode(), p + ": " + none.body());
            assertTrue(none.body().contains("missing Authorization"), none.body());
            assertEquals(401, get(port, p, "Bearer not-the-token").statusCode(), p);
            assertEquals(200, get(port, p, "Bearer " + TOKEN).statusCode(), p);
        }
        assertEquals(200, get(port, "/alive", null).statusCode());
        assertEquals(200, get(port, "/ready", null).statusCode());

        CliTestSupport.Run refused = CliTestSupport.main("status", "--management", "http://127.0.0.1:" + port);
        assertEquals(2, refused.code(), refused.toString());
        assertTrue(refused.err().contains("HTTP 401"), refused.toString());
        CliTestSupport.Run status =
                CliTestSupport.main("status", "--management", "http://127.0.0.1:" + port, "--token", TOKEN, "--json");
        assertEquals(0, status.code(), status.toString());
        assertTrue(status.out().contains("\"phase\":\"idle\""), status.toString());

        Config open = ConfigFactory.parseString("dinoj.node.open-read-routes = on")
                .withFallback(node.system().settings().config());
        ServerBinding binding = Http.get(node.system())
                .newServerAt("127.0.0.1", 0)
                .bind(new TrainingRoutes(node.system(), open).routes(null))
                .toCompletableFuture()
                .get(30, TimeUnit.SECONDS);
        try {
            int openPort = binding.localAddress().getPort();
            for (String p : reads) {
                HttpResponse<String> r = get(openPort, p, null);
                assertEquals(200, r.statusCode(), p + ": " + r.body());
            }
            assertEquals(401, post(openPort, "/training/stop", null).statusCode(), "POST routes still need it");
        } finally {
            binding.unbind().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
    }

    /**
     * Issue #17 items 5 and 6: a submission is data, and bad input is 400 with one line that names the field or key
     * and shows no resolved value or file text; the coordinator stays idle.
     */
    @Test
    void shouldRefuseBadSubmissionsAs400() throws Exception {
        String dir = runs.resolve("bad").toString();
        String path = System.getenv("PATH");
        refused(
                "{\"config\": \"fmnist-pico\", \"dir\": \"" + dir + "\", \"set\": [\"data.dataset=${PATH}\"]}",
                "${PATH}",
                path);
        refused("{\"config\": \"/etc/passwd\", \"dir\": \"" + dir + "\"}", "config-roots", "root:");
        refused(
                "{\"config\": \"fmnist-pico\", \"dir\": \"" + runs.resolveSibling("elsewhere") + "\"}",
                "run-roots",
                path);
        refused(
                "{\"config\": \"fmnist-pico\", \"dir\": \"" + dir
                        + "\", \"set\": [\"train={ include url(\\\"http://127.0.0.1:1/x\\\") }\"]}",
                "include is not allowed",
                path);
        refused(
                "{\"config\": \"fmnist-pico\", \"dir\": \"" + dir + "\", \"set\": [\"dino.head-n-prototypes=2e9\"]}",
                "out of range",
                path);
        refused(
                "{\"config\": \"fmnist-pico\", \"dir\": \"" + dir + "\", \"steps\": \"abc\"}",
                "\"steps\" must be a whole number",
                path);
        refused(
                "{\"config\": \"fmnist-pico\", \"dir\": \"" + dir + "\", \"steps\": 1e30}",
                "\"steps\" must be a whole number",
                path);
        refused(
                "{\"config\": \"fmnist-pico\", \"dir\": \"" + dir + "\", \"checkpoint-every\": 2}",
                "unknown field",
                path);
        refused(
                "{\"config\": \"fmnist-pico\", \"dir\": \"" + dir
                        + "\", \"curate\": {\"source\": \"s3://b/pool\", \"out\": "
                        + "\"s3://b/out\", \"partitions\": 2e9}}",
                "\"partitions\" must be a whole number in [0, 4096]",
                path);
        assertEquals(
                "idle",
                JSON.readTree(get("/training/status").body()).get("phase").asText());
    }

    static void refused(String body, String mustName, String never) throws Exception {
        HttpResponse<String> r = submit(body, "Bearer " + TOKEN);
        assertEquals(400, r.statusCode(), body + " -> " + r.body());
        assertTrue(r.body().contains(mustName), r.body());
        assertFalse(r.body().contains(never), r.body());
        String message = r.body().startsWith("{")
                ? JSON.readTree(r.body()).get("message").asText()
                : r.body().strip();
        assertFalse(message.contains("\n"), r.body());
    }

    /** Runs last (it gives the coordinator a run): the other tests expect an idle coordinator. */
    @Test
    @Order(Integer.MAX_VALUE)
    void shouldAcceptASubmittedRunAndQueueTheNext() throws Exception {
        Path dir = runs.resolve("queue");
        String pico = "{\"config\": \"fmnist-pico\", \"dir\": \"" + dir.resolve("run") + "\", \"steps\": 3}";
        assertEquals(401, submit(pico, null).statusCode());
        HttpResponse<String> bad = submit("{not json", "Bearer " + TOKEN);
        assertEquals(400, bad.statusCode(), bad.body());
        HttpResponse<String> unknown =
                submit("{\"config\": \"no-such-preset\", \"dir\": \"" + dir + "\"}", "Bearer " + TOKEN);
        assertEquals(400, unknown.statusCode(), unknown.body());
        assertTrue(unknown.body().contains("run refused"), unknown.body());
        assertEquals(
                "idle",
                JSON.readTree(get("/training/status").body()).get("phase").asText());

        String mgmt = "http://127.0.0.1:" + port;
        CliTestSupport.Run ok = CliTestSupport.main(
                "train",
                "--config",
                "fmnist-pico",
                "--out",
                dir.resolve("run").toString(),
                "--steps",
                "3",
                "--cluster",
                "--management",
                mgmt,
                "--token",
                TOKEN);
        assertEquals(0, ok.code(), ok.toString());
        assertTrue(ok.out().contains("run fmnist-pico accepted: 3 steps"), ok.toString());
        JsonNode st = JSON.readTree(get("/training/status").body());
        assertEquals("waiting", st.get("phase").asText(), st.toString()); // no workers in this cluster
        assertEquals(3, st.get("total_steps").asLong(), st.toString());

        // a run directory holds one run
        HttpResponse<String> second = submit(pico, "Bearer " + TOKEN);
        assertEquals(409, second.statusCode(), second.body());
        assertTrue(second.body().contains("is the directory of a run that is running or queued"), second.body());
        // another run waits in the queue
        CliTestSupport.Run queued = CliTestSupport.main(
                "train",
                "--config",
                "fmnist-pico",
                "--out",
                dir.resolve("next").toString(),
                "--steps",
                "2",
                "--cluster",
                "--management",
                mgmt,
                "--token",
                TOKEN);
        assertEquals(0, queued.code(), queued.toString());
        assertTrue(queued.out().contains("run fmnist-pico queued at position 1"), queued.toString());
        assertEquals(
                200,
                submit("{\"config\": \"fmnist-tiny\", \"dir\": \"" + dir.resolve("third") + "\"}", "Bearer " + TOKEN)
                        .statusCode());
        st = JSON.readTree(get("/training/status").body());
        assertEquals(
                dir.resolve("run").toAbsolutePath().toString(), st.get("dir").asText(), st.toString());
        assertEquals(2, st.get("queue").size(), st.toString());
        assertEquals(
                dir.resolve("next").toAbsolutePath().toString(),
                st.get("queue").get(0).get("dir").asText());
        assertEquals("fmnist-tiny", st.get("queue").get(1).get("config").asText());
        assertTrue(get("/metrics").body().contains("dinoj_training_queued_runs 2.0"));

        // cancel takes a queued run out; the running one is stopped, not cancelled
        CliTestSupport.Run cancel = CliTestSupport.main(
                "runs", "cancel", "--out", dir.resolve("third").toString(), "--management", mgmt, "--token", TOKEN);
        assertEquals(0, cancel.code(), cancel.toString());
        assertTrue(cancel.out().contains("cancelled (1 left in the queue)"), cancel.toString());
        HttpResponse<String> again =
                post("/training/cancel", "{\"dir\": \"" + dir.resolve("third") + "\"}", "Bearer " + TOKEN);
        assertEquals(409, again.statusCode(), again.body());
        assertTrue(again.body().contains("no queued run in"), again.body());
        HttpResponse<String> running =
                post("/training/cancel", "{\"dir\": \"" + dir.resolve("run") + "\"}", "Bearer " + TOKEN);
        assertEquals(409, running.statusCode(), running.body());
        assertTrue(running.body().contains("stop it with POST /training/stop"), running.body());
        assertEquals(400, post("/training/cancel", "{}", "Bearer " + TOKEN).statusCode());
        assertEquals(401, post("/training/cancel", "{\"dir\": \"x\"}", null).statusCode());

        // stopping the running run starts the next queued one
        CliTestSupport.Run stop = CliTestSupport.main("runs", "stop", "--management", mgmt, "--token", TOKEN);
        assertEquals(0, stop.code(), stop.toString());
        assertTrue(stop.out().contains("then the next of 1 queued runs starts"), stop.toString());
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        do {
            Thread.sleep(300);
            st = JSON.readTree(get("/training/status").body());
            assertTrue(System.nanoTime() < deadline, "the queued run did not start: " + st);
        } while (!st.get("dir")
                .asText()
                .equals(dir.resolve("next").toAbsolutePath().toString()));
        assertEquals("waiting", st.get("phase").asText(), st.toString());
        assertEquals(2, st.get("total_steps").asLong(), st.toString());
        assertEquals(0, st.get("queue").size(), st.toString());
        CliTestSupport.Run noToken = CliTestSupport.main(
                "train",
                "--config",
                "fmnist-pico",
                "--out",
                dir.toString(),
                "--cluster",
                "--management",
                mgmt,
                "--token",
                "wrong");
        assertEquals(2, noToken.code(), noToken.toString());
        assertTrue(noToken.err().contains("HTTP 401: wrong bearer token"), noToken.toString());
    }

    static HttpResponse<String> submit(String body, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/training/submit"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) {
            b.header("Authorization", authorization);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A response for a refused connection, so the readiness loop can keep polling. */
    private record FakeFailure(IOException e) {
        HttpResponse<String> response() {
            return new HttpResponse<>() {
                public int statusCode() {
                    return -1;
                }

                public HttpRequest request() {
                    return null;
                }

                public java.util.Optional<HttpResponse<String>> previousResponse() {
                    return java.util.Optional.empty();
                }

                public java.net.http.HttpHeaders headers() {
                    return java.net.http.HttpHeaders.of(java.util.Map.of(), (a, b) -> true);
                }

                public String body() {
                    return e.toString();
                }

                public java.util.Optional<javax.net.ssl.SSLSession> sslSession() {
                    return java.util.Optional.empty();
                }

                public URI uri() {
                    return null;
                }

                public HttpClient.Version version() {
                    return HttpClient.Version.HTTP_1_1;
                }
            };
        }
    }
}
