package dev.dinoj.trainer.train.sharded;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.trainer.collective.ChildJvm;
import dev.dinoj.trainer.collective.CollectiveSettings;
import dev.dinoj.trainer.collective.TestWorlds;
import dev.dinoj.trainer.collective.TestWorlds.Transport;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

/** Starts N {@link ShardedRankMain} JVMs and waits for them (IPC: this JVM hosts the driver; UDP: one per rank). */
final class RankProcesses {

    static final CollectiveSettings CS = CollectiveSettings.defaults()
            .withTimeout(Duration.ofSeconds(60))
            .withConnectTimeout(Duration.ofSeconds(120))
            .withTermLengths(4 << 20, 1 << 20);

    private RankProcesses() {}

    /**
     * Runs the ranks; {@code meanwhile} runs in this JVM while they work (e.g. the single-worker reference).
     *
     * @return what {@code meanwhile} returned
     */
    static <T> T run(
            int n, Transport transport, int generation, String mode, Path out, int steps, Callable<T> meanwhile)
            throws Exception {
        try (TestWorlds w = new TestWorlds(n, transport, CS, generation, transport == Transport.IPC)) {
            List<Process> procs = new ArrayList<>();
            List<File> logs = new ArrayList<>();
            try {
                for (int r = 0; r < n; r++) {
                    File log =
                            out.resolve(mode + "-" + n + "-rank" + r + ".log").toFile();
                    logs.add(log);
                    procs.add(ChildJvm.start(
                            "1g",
                            List.of(),
                            ShardedRankMain.class.getName(),
                            List.of(
                                    mode,
                                    Integer.toString(r),
                                    w.world().spec(),
                                    Integer.toString(generation),
                                    CS.encode(),
                                    Boolean.toString(transport == Transport.UDP),
                                    out.toString(),
                                    Integer.toString(steps)),
                            w.world().secretEnvironment(),
                            log));
                }
                T result = meanwhile == null ? null : meanwhile.call();
                for (int r = 0; r < n; r++) {
                    assertTrue(procs.get(r).waitFor(500, TimeUnit.SECONDS), "rank " + r + " did not finish");
                    assertEquals(
                            0,
                            procs.get(r).exitValue(),
                            "rank " + r + ":\n" + Files.readString(logs.get(r).toPath()));
                }
                return result;
            } finally {
                for (Process p : procs) {
                    p.destroyForcibly();
                }
            }
        }
    }
}
