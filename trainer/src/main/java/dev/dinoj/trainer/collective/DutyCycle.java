package dev.dinoj.trainer.collective;

import dev.dinoj.trainer.collective.transport.ChunkCollective;
import java.util.ArrayList;
import java.util.List;
import org.agrona.concurrent.IdleStrategy;

/**
 * The one loop behind every blocking collective call: {@code doWork()} of the collective in progress until it
 * completes, idling by the settings' {@link IdleStrategy} whenever a round did nothing. It turns the state machine's
 * outcome into the typed errors of the API: a recorded failure into {@link CollectiveException}; no progress (no chunk
 * sent or accepted: dropped foreign or stale chunks are no progress, so a flood of them cannot hold a stalled
 * collective open) for {@link CollectiveSettings#timeout()}, or a needed peer's stream closed, into
 * {@link CollectiveTimeoutException} naming the ranks it waits for. It never blocks without a deadline.
 */
final class DutyCycle {

    private final World world;
    private final int rank;
    private final long timeoutNs;
    private final IdleStrategy idle;

    DutyCycle(World world, int rank, CollectiveSettings settings) {
        this.world = world;
        this.rank = rank;
        this.timeoutNs = settings.timeout().toNanos();
        this.idle = settings.newIdleStrategy();
    }

    /**
     * Drives {@code collective} (already begun) to completion.
     *
     * @throws CollectiveException        if it fails
     * @throws CollectiveTimeoutException if it makes no progress for the timeout or a needed peer is gone
     */
    void run(ChunkCollective collective) {
        long lastProgress = System.nanoTime();
        long progress = collective.progress();
        idle.reset();
        while (true) {
            int work = collective.doWork();
            if (collective.failure() != null) {
                throw new CollectiveException(prefix(collective) + collective.failure());
            }
            if (collective.isComplete()) {
                return;
            }
            long p = collective.progress();
            if (p != progress) {
                progress = p;
                lastProgress = System.nanoTime();
                idle.reset();
                continue;
            }
            long now = System.nanoTime();
            int closedPeer = collective.closedPeer();
            if (now - lastProgress > timeoutNs || closedPeer >= 0) {
                throw timeout(collective, now - lastProgress, closedPeer);
            }
            if (work > 0) {
                idle.reset(); // dropped chunks: poll again at once, but they are no progress
            } else {
                idle.idle();
            }
        }
    }

    private String prefix(ChunkCollective c) {
        return "rank " + rank + ", " + c.name() + " #" + c.sequence() + " at step " + c.step() + ": ";
    }

    private CollectiveTimeoutException timeout(ChunkCollective c, long elapsedNs, int closedPeer) {
        List<Integer> peers = new ArrayList<>();
        c.waitingFor(closedPeer, peers);
        String msg = prefix(c)
                + (closedPeer >= 0
                        ? "the stream from rank " + closedPeer + " closed (peer gone)"
                        : "no progress for " + elapsedNs / 1_000_000 + " ms")
                + "; waiting for rank(s) " + peers + " (" + world + ")";
        return new CollectiveTimeoutException(msg, peers, elapsedNs / 1_000_000);
    }
}
