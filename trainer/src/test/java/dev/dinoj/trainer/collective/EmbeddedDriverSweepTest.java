package dev.dinoj.trainer.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Driver directories left by killed JVMs (cluster nodes and ranks on random ports, each tens of MB of /dev/shm) are
 * swept when the next driver launches beside them — but never one of a live driver, a fresh one, or a directory that
 * is not dinoj's.
 */
class EmbeddedDriverSweepTest {

    private static Path dir(Path parent, String name, boolean old) throws Exception {
        Path d = Files.createDirectories(parent.resolve(name));
        Files.writeString(d.resolve("some-file"), "x");
        if (old) {
            Files.setLastModifiedTime(d, FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
        }
        return d;
    }

    @Test
    @Timeout(60)
    void staleDirectoriesGoLiveFreshAndForeignOnesStay(@TempDir Path parent) throws Exception {
        Path beforeLaunch = dir(parent, "dinoj-aeron-u-127.0.0.1-40000", true);
        try (EmbeddedDriver live =
                EmbeddedDriver.launch(parent.resolve("dinoj-ranks-live").toString(), CollectiveSettings.defaults())) {
            assertFalse(Files.exists(beforeLaunch), "a launch sweeps the stale directories beside its own");
            Path noCnc = dir(parent, "dinoj-aeron-u-127.0.0.1-40001", true); // a launch that never got far
            Path foreign = dir(parent, "someone-elses-dir", true);
            Path dead = dir(parent, "dinoj-ranks-1234-abcd-rank0", false); // a driver killed with its JVM
            Path liveDir = Path.of(live.directory());
            Files.copy(liveDir.resolve("cnc.dat"), dead.resolve("cnc.dat")); // its heartbeat stops here
            Files.setLastModifiedTime(dead, FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
            Files.setLastModifiedTime(liveDir, FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
            Thread.sleep(4_000);
            Path fresh = dir(parent, "dinoj-aeron-u-127.0.0.1-40002", false); // another JVM launching right now

            int deleted = EmbeddedDriver.sweepStale(parent, "dinoj-aeron-u-127.0.0.1-40003", 3_000);

            assertTrue(Files.exists(liveDir.resolve("cnc.dat")), "a live driver's directory stays");
            assertEquals(2, deleted);
            assertFalse(Files.exists(noCnc), "a stale directory without cnc.dat is deleted");
            assertFalse(Files.exists(dead), "a directory whose driver stopped beating is deleted");
            assertTrue(Files.exists(liveDir.resolve("cnc.dat")), "a live driver's directory stays");
            assertTrue(Files.exists(fresh), "a fresh directory stays");
            assertTrue(Files.exists(foreign), "a directory that is not dinoj's stays");
        }
    }
}
