package dev.dinoj.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** User errors of {@code dinoj node}, {@code dinoj cluster up} and {@code dinoj status}: one line, exit code 2. */
class NodeCommandTest {

    @Test
    void shouldRejectAMissingConfigFileNamingIt() {
        CliTestSupport.Run r = CliTestSupport.main("node", "--roles", "worker", "--config", "/nonexistent/node.conf");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("/nonexistent/node.conf: no such config file"), r.toString());
    }

    @Test
    void shouldRejectAnUnknownRole() {
        CliTestSupport.Run r = CliTestSupport.main("node", "--roles", "coordinator,trainer");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("unknown role 'trainer'"), r.toString());
    }

    @Test
    void shouldRejectABadRunConfigBeforeStarting(@TempDir Path dir) throws Exception {
        Path conf = dir.resolve("node.conf");
        Files.writeString(conf, "dinoj.actors.coordinator.run { config = fmnist-nano, dir = \"" + dir + "\" }\n");
        CliTestSupport.Run r = CliTestSupport.main("node", "--roles", "coordinator", "--config", conf.toString());
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("fmnist-nano"), r.toString());
    }

    @Test
    void shouldRejectAnUnreachableManagementUrl() {
        CliTestSupport.Run r = CliTestSupport.main("status", "--management", "http://127.0.0.1:1");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("127.0.0.1:1/training/status: no answer"), r.toString());
        CliTestSupport.Run stop =
                CliTestSupport.main("runs", "stop", "--management", "http://127.0.0.1:1", "--token", "t");
        assertEquals(2, stop.code(), stop.toString());
        assertTrue(stop.err().contains("127.0.0.1:1/training/stop: no answer"), stop.toString());
    }

    @Test
    void shouldAskForTheTokenAndTheQueuedRunsDirectory() {
        CliTestSupport.Run noToken = CliTestSupport.main(
                "runs", "cancel", "--out", "/x", "--management", "http://127.0.0.1:1", "--token", "");
        assertEquals(2, noToken.code(), noToken.toString());
        assertTrue(noToken.err().contains("runs cancel needs the management token"), noToken.toString());
        CliTestSupport.Run noDir = CliTestSupport.main("runs", "cancel", "--token", "t");
        assertEquals(2, noDir.code(), noDir.toString());
        assertTrue(noDir.err().contains("--out"), noDir.toString());
        CliTestSupport.Run bare = CliTestSupport.main("runs");
        assertEquals(2, bare.code(), bare.toString());
        assertTrue(bare.err().contains("give a subcommand"), bare.toString());
    }

    @Test
    void shouldRejectABadNodeCount() {
        CliTestSupport.Run r = CliTestSupport.main("cluster", "up", "--nodes", "0");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("--nodes 0"), r.toString());
    }

    @Test
    void shouldRejectAClusterSubmitToAnUnreachableManagementUrl(@TempDir Path dir) {
        CliTestSupport.Run r = CliTestSupport.main(
                "train",
                "--config",
                "fmnist-pico",
                "--out",
                dir.toString(),
                "--cluster",
                "--management",
                "http://127.0.0.1:1",
                "--token",
                "t");
        assertEquals(2, r.code(), r.toString());
        assertTrue(r.err().contains("127.0.0.1:1/training/submit: no answer"), r.toString());
        CliTestSupport.Run none = CliTestSupport.main("train", "--out", dir.toString(), "--cluster", "--token", "t");
        assertEquals(2, none.code(), none.toString());
        assertTrue(none.err().contains("--cluster needs --config"), none.toString());
    }
}
