package dev.dinoj.trainer.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.trainer.collective.TestWorlds.Transport;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Ranks as separate JVMs: they check their collectives, then one is killed (SIGKILL) in the middle of an all-reduce
 * loop, and the others must fail with {@link CollectiveTimeoutException} within the timeout instead of hanging.
 */
class CollectiveProcessTest {

    static final Duration TIMEOUT = Duration.ofSeconds(2);

    @ParameterizedTest
    @EnumSource(Transport.class)
    @Timeout(120)
    void killingARankMidCollectiveFailsTheOthersWithATypedErrorWithinTheTimeout(Transport transport, @TempDir Path tmp)
            throws Exception {
        int n = 3;
        CollectiveSettings settings =
                CommunicatorTest.SETTINGS.withTimeout(TIMEOUT).withConnectTimeout(Duration.ofSeconds(60));
        // IPC: this JVM hosts the ranks' shared media driver; UDP: every rank starts a driver of its own
        try (TestWorlds w = new TestWorlds(n, transport, settings, 0, transport == Transport.IPC)) {
            List<Process> procs = new ArrayList<>();
            List<File> logs = new ArrayList<>();
            try {
                for (int r = 0; r < n; r++) {
                    File log = tmp.resolve("rank" + r + ".log").toFile();
                    logs.add(log);
                    procs.add(ChildJvm.start(
                            "256m",
                            List.of(),
                            CollectiveRankMain.class.getName(),
                            List.of(
                                    Integer.toString(r),
                                    w.world().spec(),
                                    settings.encode(),
                                    Boolean.toString(transport == Transport.UDP),
                                    "0"),
                            w.world().secretEnvironment(),
                            log));
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                for (int r = 0; r < n; r++) {
                    while (!Files.readString(logs.get(r).toPath()).contains("READY")) {
                        assertTrue(
                                procs.get(r).isAlive(),
                                "rank " + r + " died:\n"
                                        + Files.readString(logs.get(r).toPath()));
                        assertTrue(System.nanoTime() < deadline, "rank " + r + " not ready");
                        Thread.sleep(50);
                    }
                }
                Thread.sleep(300); // well inside the all-reduce loop
                procs.get(1).destroyForcibly();
                long killed = System.nanoTime();
                for (int r : new int[] {0, 2}) {
                    boolean exited = procs.get(r).waitFor(TIMEOUT.toMillis() * 3 + 5000, TimeUnit.MILLISECONDS);
                    String out = Files.readString(logs.get(r).toPath());
                    assertTrue(exited, "rank " + r + " still running (hung?) after the kill:\n" + out);
                    assertEquals(3, procs.get(r).exitValue(), "rank " + r + " exit code:\n" + out);
                    assertTrue(out.contains("TYPED_ERROR CollectiveTimeoutException"), out);
                    System.out.printf(
                            "%s rank %d exited %d ms after the kill: %s%n",
                            transport,
                            r,
                            (System.nanoTime() - killed) / 1_000_000,
                            out.lines()
                                    .filter(l -> l.startsWith("TYPED_ERROR"))
                                    .findFirst()
                                    .orElse(""));
                }
                long ms = (System.nanoTime() - killed) / 1_000_000;
                assertTrue(ms < TIMEOUT.toMillis() * 3 + 5000, "survivors took " + ms + " ms");
            } finally {
                for (Process p : procs) {
                    p.destroyForcibly();
                }
            }
        }
    }
}
