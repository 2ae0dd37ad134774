package dev.dinoj.trainer.collective;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops a training loop cleanly when the JVM is asked to exit (SIGTERM from {@code kill}, Kubernetes or a batch
 * scheduler, Ctrl-C, {@code System.exit}): a shutdown hook flags the request and then holds the JVM's exit until the
 * loop has finished its step, written a checkpoint and released its native memory (or until {@code grace} runs
 * out). Without it, exit runs libtorch's static destructors while the training thread is still inside a backward
 * pass, which crashes the JVM (SIGSEGV in {@code at::accelerator::getAccelerator}) and loses the steps since the
 * last checkpoint. The ranks of {@code train --ranks N} use it as the single-process run does, and agree on the
 * step to stop after through a small all-reduce of the flag.
 */
public final class ShutdownStop implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ShutdownStop.class);

    private final AtomicBoolean requested = new AtomicBoolean();
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Duration grace;
    private final Thread hook;

    /** How long a stop may take by default: finish the step, checkpoint, release native memory. */
    public static final Duration DEFAULT_GRACE = Duration.ofSeconds(120);

    /** Registers the hook. */
    public ShutdownStop(Duration grace) {
        this.grace = grace;
        this.hook = new Thread(this::onShutdown, "dinoj-train-stop");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Whether the JVM was asked to exit: the loop should checkpoint and return. */
    public boolean requested() {
        return requested.get();
    }

    private void onShutdown() {
        requested.set(true);
        log.warn(
                "Termination requested: finishing the step in flight and writing a checkpoint (at most {} s)",
                grace.toSeconds());
        try {
            if (!finished.await(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn(
                        "The training loop did not finish within {} s; exiting without a final checkpoint",
                        grace.toSeconds());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The loop is done (normally or not): lets a pending exit go on, and unregisters the hook. */
    @Override
    public void close() {
        finished.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down: the hook is running and has just been released
        }
    }
}
