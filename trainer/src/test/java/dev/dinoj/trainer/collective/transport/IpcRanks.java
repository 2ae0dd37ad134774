package dev.dinoj.trainer.collective.transport;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Image;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.agrona.CloseHelper;
import org.agrona.concurrent.BackoffIdleStrategy;

/**
 * {@code n} ranks' Aeron ends over {@code aeron:ipc} in one JVM, for driving the state machines of this package
 * without a communicator: a real embedded media driver in its own directory, one client, rank {@code r}'s inbox on
 * stream {@code STREAM_BASE + r}, an exclusive publication from every rank to every other (session id
 * {@code SESSION_BASE + rank}) and every image found by session id.
 */
final class IpcRanks implements AutoCloseable {
    static final int STREAM_BASE = 9100;
    static final int SESSION_BASE = 0x5000_0000;
    static final int MTU = 4096;
    /** The secret of the tests' worlds. */
    static final long SECRET = 0x5EC2_E7C0_FFEE_1234L;

    final int size;
    final MediaDriver driver;
    final Aeron aeron;
    final Subscription[] inboxes;
    final ExclusivePublication[][] publications;
    final Image[][] images;
    final List<AutoCloseable> extras = new ArrayList<>();

    IpcRanks(final int size) {
        this.size = size;
        this.driver = MediaDriver.launch(new MediaDriver.Context()
                .aeronDirectoryName("/dev/shm/dinoj-test-transport-" + UUID.randomUUID())
                .dirDeleteOnStart(true)
                .dirDeleteOnShutdown(true)
                .threadingMode(ThreadingMode.SHARED)
                .sharedIdleStrategy(new BackoffIdleStrategy(64, 16, 1_000, 20_000)));
        this.aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName()));
        this.inboxes = new Subscription[size];
        this.publications = new ExclusivePublication[size][size];
        this.images = new Image[size][size];
        for (int r = 0; r < size; r++) {
            inboxes[r] = aeron.addSubscription("aeron:ipc", STREAM_BASE + r);
        }
        for (int r = 0; r < size; r++) {
            for (int p = 0; p < size; p++) {
                if (p != r) {
                    publications[r][p] = aeron.addExclusivePublication(channel(SESSION_BASE + r), STREAM_BASE + p);
                }
            }
        }
        await(() -> {
            for (int r = 0; r < size; r++) {
                for (int p = 0; p < size; p++) {
                    if (p != r) {
                        images[r][p] = inboxes[r].imageBySessionId(SESSION_BASE + p);
                        if (null == images[r][p] || !publications[p][r].isConnected()) {
                            return false;
                        }
                    }
                }
            }
            return true;
        });
    }

    static String channel(final int sessionId) {
        return "aeron:ipc?term-length=65536|mtu=" + MTU + "|session-id=" + sessionId;
    }

    /** A publication onto rank {@code r}'s inbox from someone outside the world, once its image is there. */
    ExclusivePublication foreignPublication(final int r, final int sessionId) {
        final ExclusivePublication publication = aeron.addExclusivePublication(channel(sessionId), STREAM_BASE + r);
        extras.add(publication);
        await(() -> publication.isConnected() && null != inboxes[r].imageBySessionId(sessionId));
        return publication;
    }

    static void await(final BooleanSupplier condition) {
        final long deadline = System.nanoTime() + 20_000_000_000L;
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not connected within 20 s");
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /**
     * Drives every rank's collective from this one thread, round-robin, until all complete.
     *
     * @return doWork() calls made
     */
    static long driveAll(final ChunkCollective... collectives) {
        final long deadline = System.nanoTime() + 30_000_000_000L;
        long rounds = 0;
        while (true) {
            boolean all = true;
            for (final ChunkCollective c : collectives) {
                c.doWork();
                rounds++;
                if (null != c.failure()) {
                    throw new AssertionError("rank failed: " + c.failure());
                }
                all &= c.isComplete();
            }
            if (all) {
                return rounds;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("no completion within 30 s");
            }
            Thread.yield();
        }
    }

    public void close() {
        CloseHelper.closeAll(extras);
        CloseHelper.closeAll(aeron, driver);
    }
}
