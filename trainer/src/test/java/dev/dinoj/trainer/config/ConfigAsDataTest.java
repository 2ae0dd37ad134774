package dev.dinoj.trainer.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue #17 item 5: a {@code --set} value and a submitted config file are data. They include nothing (no file, URL or
 * classpath resource is read), they read no environment variable or system property ({@code ${X}} may name only keys
 * of the configuration), and a submitted file's syntax errors do not show its text. A file the local user names may
 * still include the files next to it.
 */
class ConfigAsDataTest {

    /** Serves {@code batch-size = 4} to anyone, counting the requests. */
    HttpServer server;

    final AtomicInteger fetched = new AtomicInteger();

    @BeforeEach
    void serve() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", x -> {
            fetched.incrementAndGet();
            byte[] b = "batch-size = 4\n".getBytes(StandardCharsets.UTF_8);
            x.sendResponseHeaders(200, b.length);
            x.getResponseBody().write(b);
            x.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    String url() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/train.conf";
    }

    static void assertOneLineWithout(ConfigError e, String secret) {
        assertFalse(e.getMessage().contains(secret), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void aSetValueReadsNoEnvironmentVariable() {
        String path = System.getenv("PATH");
        assertTrue(path != null && path.length() > 3, "the test needs PATH in the environment");
        ConfigError e = assertThrows(
                ConfigError.class, () -> TrainSettings.load("fmnist-pico", List.of("data.dataset=${PATH}")));
        assertOneLineWithout(e, path);
        assertTrue(e.getMessage().contains("${PATH}"), e.getMessage());
        assertTrue(e.getMessage().contains("environment"), e.getMessage());
    }

    @Test
    void aSetValueMayReferToKeysOfTheConfiguration() {
        TrainSettings s = TrainSettings.load("fmnist-pico", List.of("train.log-every=${dinoj.train.batch-size}"));
        assertEquals(s.batchSize(), s.loop().logEvery());
    }

    @Test
    void aSetValueIncludesNothing(@TempDir Path tmp) throws Exception {
        Path local = tmp.resolve("train.conf");
        Files.writeString(local, "batch-size = 4\n");
        for (String include : List.of(
                "include url(\"" + url() + "\")",
                "include \"" + url() + "\"",
                "include file(\"" + local + "\")",
                "include required(file(\"" + local + "\"))",
                "include classpath(\"dinoj/presets/fmnist-tiny.conf\")")) {
            ConfigError e = assertThrows(
                    ConfigError.class,
                    () -> TrainSettings.load("fmnist-pico", List.of("train={ " + include + " }")),
                    include);
            assertTrue(e.getMessage().startsWith("--set dinoj.train"), e.getMessage());
            assertTrue(e.getMessage().contains("include is not allowed"), e.getMessage());
            assertOneLineWithout(e, "batch-size");
        }
        assertEquals(0, fetched.get(), "no URL may be fetched");
    }

    @Test
    void aSubmittedFileIncludesNothing(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("run.conf");
        Files.writeString(f, "dinoj.train { include url(\"" + url() + "\") }\n");
        ConfigError e = assertThrows(ConfigError.class, () -> TrainSettings.loadSubmitted(f.toString(), List.of()));
        assertTrue(e.getMessage().contains("include is not allowed"), e.getMessage());
        assertEquals(0, fetched.get(), "no URL may be fetched");
    }

    @Test
    void aSubmittedFileReadsNoEnvironmentVariable(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("run.conf");
        Files.writeString(f, "dinoj.data.dataset = ${HOME}\n");
        ConfigError e = assertThrows(ConfigError.class, () -> TrainSettings.loadSubmitted(f.toString(), List.of()));
        assertOneLineWithout(e, System.getenv("HOME"));
        assertTrue(e.getMessage().contains("${HOME}"), e.getMessage());
    }

    @Test
    void aSubmittedFileWithBadSyntaxIsNotShown(@TempDir Path tmp) throws Exception {
        Path f = tmp.resolve("secret.conf");
        Files.writeString(f, "TOPSECRET-value-7\n");
        ConfigError e = assertThrows(ConfigError.class, () -> TrainSettings.loadSubmitted(f.toString(), List.of()));
        assertOneLineWithout(e, "TOPSECRET");
        assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("not valid HOCON"), e.getMessage());
    }

    @Test
    void aSubmittedPresetLoads() {
        assertEquals(
                4,
                TrainSettings.loadSubmitted("fmnist-pico", List.of("train.batch-size=4"))
                        .batchSize());
    }

    @Test
    void aLocalFileMayIncludeItsNeighbours(@TempDir Path tmp) throws Exception {
        Files.writeString(tmp.resolve("base.conf"), "dinoj.train.batch-size = 12\n");
        Path f = tmp.resolve("run.conf");
        Files.writeString(f, "include \"base.conf\"\ndinoj.model.arch = vit_pico\n");
        assertEquals(
                12,
                TrainSettings.load(List.of("fmnist-pico", f.toString()), List.of())
                        .batchSize());
    }
}
