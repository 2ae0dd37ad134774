package dev.dinoj.trainer.collective;

import io.aeron.CommonContext;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An Aeron media driver inside this JVM, in its own directory (normally under {@code /dev/shm}). The directory is
 * deleted on start (a crashed earlier run leaves it behind) and on close. One thread ({@code SHARED} mode) with a
 * backoff idle strategy, so that a 2-core machine keeps its cores for the training step.
 */
public final class EmbeddedDriver implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedDriver.class);

    private final MediaDriver driver;
    private final String directory;

    private EmbeddedDriver(MediaDriver driver, String directory) {
        this.driver = driver;
        this.directory = directory;
    }

    /** Names of the driver directories dinoj creates ({@link Member#driverDir}, {@link LocalRanks}). */
    private static final String[] OWN_PREFIXES = {"dinoj-aeron-", "dinoj-ranks-"};
    /** A directory this old without a live driver is left over from a JVM that was killed. */
    static final long STALE_AFTER_MS = 60_000;

    /**
     * Launches a driver in {@code directory} with the MTU, term lengths and UDP buffers of {@code settings}, after
     * sweeping the stale driver directories beside it ({@link #sweepStale}).
     */
    public static EmbeddedDriver launch(String directory, CollectiveSettings settings) {
        Path parent = Path.of(directory).toAbsolutePath().getParent();
        if (parent != null) {
            sweepStale(parent, Path.of(directory).getFileName().toString());
        }
        MediaDriver.Context ctx = new MediaDriver.Context()
                .aeronDirectoryName(directory)
                .dirDeleteOnStart(true)
                .dirDeleteOnShutdown(true)
                .warnIfDirectoryExists(false)
                .threadingMode(ThreadingMode.SHARED)
                .sharedIdleStrategy(new BackoffIdleStrategy(64, 16, 1_000, 20_000))
                .mtuLength(settings.mtu())
                .ipcMtuLength(settings.mtu())
                .ipcTermBufferLength(settings.ringTermLength())
                .publicationTermBufferLength(settings.ringTermLength())
                .initialWindowLength(settings.udpReceiverWindow())
                .socketRcvbufLength(settings.udpSocketBuffer())
                .socketSndbufLength(settings.udpSocketBuffer())
                .spiesSimulateConnection(false)
                .errorHandler(t -> log.warn("Aeron media driver {}: {}", directory, t.toString()));
        try {
            return new EmbeddedDriver(MediaDriver.launch(ctx), directory);
        } catch (RuntimeException e) {
            deleteQuietly(Path.of(directory)); // a failed launch leaves an empty directory behind
            throw new CollectiveException(
                    "cannot launch the Aeron media driver in " + directory + ": " + e.getMessage(), e);
        }
    }

    /** The Aeron directory clients connect to. */
    public String directory() {
        return directory;
    }

    @Override
    public void close() {
        try {
            driver.close();
        } finally {
            deleteQuietly(Path.of(directory));
        }
    }

    /**
     * Deletes the dinoj driver directories in {@code parent} ({@code dinoj-aeron-*}, {@code dinoj-ranks-*}) that a
     * killed JVM left behind: older than a minute and without a live driver (Aeron's heartbeat in {@code cnc.dat} not
     * updated for a minute, or no {@code cnc.dat} at all). A driver dies with its JVM on {@code kill -9} and its
     * term buffers (tens of MB each, in memory under {@code /dev/shm}) would otherwise stay until reboot; cluster
     * nodes and test ranks on random ports leave a new one each time.
     *
     * @param keep the name of the directory about to be used (never swept here: its launch deletes it itself)
     * @return how many directories were deleted
     */
    public static int sweepStale(Path parent, String keep) {
        return sweepStale(parent, keep, STALE_AFTER_MS);
    }

    static int sweepStale(Path parent, String keep, long staleAfterMs) {
        int deleted = 0;
        long now = System.currentTimeMillis();
        try (Stream<Path> s = Files.list(parent)) {
            for (Path dir : (Iterable<Path>) s::iterator) {
                String name = dir.getFileName().toString();
                if (name.equals(keep) || !Files.isDirectory(dir) || !ownName(name)) {
                    continue;
                }
                try {
                    if (now - Files.getLastModifiedTime(dir).toMillis() < staleAfterMs
                            || CommonContext.isDriverActive(dir.toFile(), staleAfterMs, m -> {})) {
                        continue;
                    }
                } catch (IOException | RuntimeException e) {
                    continue; // unreadable or vanishing: not ours to judge
                }
                log.info("Deleting the stale Aeron driver directory {} (no live driver; left by a killed JVM)", dir);
                deleteQuietly(dir);
                deleted++;
            }
        } catch (IOException e) {
            log.debug("Cannot list {} for stale driver directories: {}", parent, e.toString());
        }
        return deleted;
    }

    private static boolean ownName(String name) {
        for (String p : OWN_PREFIXES) {
            if (name.startsWith(p)) {
                return true;
            }
        }
        return false;
    }

    static void deleteQuietly(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
