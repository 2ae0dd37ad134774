package dev.dinoj.trainer.collective;

import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

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

    /** Launches a driver in {@code directory} with the MTU, term lengths and UDP buffers of {@code settings}. */
    public static EmbeddedDriver launch(String directory, CollectiveSettings settings) {
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
            deleteQuietly(Path.of(directory));     // a failed launch leaves an empty directory behind
            throw new CollectiveException("cannot launch the Aeron media driver in " + directory + ": " + e.getMessage(), e);
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
