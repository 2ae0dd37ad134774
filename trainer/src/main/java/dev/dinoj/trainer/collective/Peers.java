package dev.dinoj.trainer.collective;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Image;
import io.aeron.Subscription;
import java.util.ArrayList;
import java.util.List;
import org.agrona.CloseHelper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One rank's Aeron ends towards its peers: the Aeron client, the inbox (stream {@code streamIdBase + rank}: an IPC
 * subscription for peers that share this rank's media driver, a UDP one on the member's {@code host:port} for the
 * others), one exclusive publication to every peer (the large ring term towards the right neighbour
 * {@code rank + 1}, small terms towards the rest), and the image of every peer in the inbox, found by the session id
 * {@code 0x40000000 | generation << 10 | rank} of its publication.
 */
final class Peers implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Peers.class);
    private static final int SESSION_ID_BASE = 0x4000_0000;

    private final World world;
    private final int rank;
    private final int size;
    private final CollectiveSettings settings;
    private final Aeron aeron;
    private final ExclusivePublication[] publications;
    private final Subscription ipcInbox;
    private final Subscription udpInbox;
    private final Image[] images;

    private Peers(World world, int rank, CollectiveSettings settings, Aeron aeron) {
        this.world = world;
        this.rank = rank;
        this.size = world.size();
        this.settings = settings;
        this.aeron = aeron;
        this.publications = new ExclusivePublication[size];
        this.images = new Image[size];
        boolean anyIpc = false;
        boolean anyUdp = false;
        for (int p = 0; p < size; p++) {
            if (p != rank) {
                if (world.sharesDriver(rank, p)) {
                    anyIpc = true;
                } else {
                    anyUdp = true;
                }
            }
        }
        Member me = world.member(rank);
        int stream = settings.streamIdBase() + rank;
        Subscription ipc = null;
        Subscription udp = null;
        try {
            if (anyIpc) {
                ipc = aeron.addSubscription("aeron:ipc", stream);
            }
            if (anyUdp) {
                udp = aeron.addSubscription(
                        "aeron:udp?endpoint=" + me.host() + ":" + me.port() + "|so-rcvbuf=" + settings.udpSocketBuffer()
                                + "|rcv-wnd=" + settings.udpReceiverWindow(),
                        stream);
            }
            for (int p = 0; p < size; p++) {
                if (p != rank) {
                    publications[p] = aeron.addExclusivePublication(channelTo(p), settings.streamIdBase() + p);
                }
            }
        } catch (RuntimeException e) {
            CloseHelper.quietCloseAll(publications);
            CloseHelper.quietCloseAll(ipc, udp);
            throw e;
        }
        this.ipcInbox = ipc;
        this.udpInbox = udp;
    }

    /**
     * Connects an Aeron client to the rank's media driver (which must be running, e.g. an {@link EmbeddedDriver} in
     * {@link Member#driverDir()}), opens the inbox and the publications, and waits until every peer is connected
     * both ways.
     *
     * @throws CollectiveException        if there is no media driver
     * @throws CollectiveTimeoutException if some peer does not appear within the connect timeout
     */
    static Peers connect(World world, int rank, CollectiveSettings settings) {
        Member me = world.member(rank);
        Aeron aeron;
        try {
            aeron = Aeron.connect(new Aeron.Context()
                    .aeronDirectoryName(me.driverDir())
                    .preTouchMappedMemory(true) // no page faults in the first collectives
                    .errorHandler(t -> log.warn("Aeron client of rank {}: {}", rank, t.toString())));
        } catch (RuntimeException e) {
            throw new CollectiveException(
                    "rank " + rank + ": no Aeron media driver in " + me.driverDir()
                            + " (start one there, e.g. EmbeddedDriver.launch): " + e.getMessage(),
                    e);
        }
        Peers peers;
        try {
            peers = new Peers(world, rank, settings, aeron);
        } catch (RuntimeException e) {
            aeron.close();
            throw e;
        }
        try {
            peers.awaitConnected();
        } catch (RuntimeException e) {
            peers.close();
            throw e;
        }
        return peers;
    }

    private String channelTo(int peer) {
        int term = peer == (rank + 1) % size ? settings.ringTermLength() : settings.smallTermLength();
        String params =
                "mtu=" + settings.mtu() + "|term-length=" + term + "|session-id=" + sessionId(world.generation(), rank);
        if (world.sharesDriver(rank, peer)) {
            return "aeron:ipc?" + params;
        }
        Member m = world.member(peer);
        return "aeron:udp?endpoint=" + m.host() + ":" + m.port() + "|" + params + "|so-sndbuf="
                + settings.udpSocketBuffer();
    }

    static int sessionId(int generation, int rank) {
        return SESSION_ID_BASE | (generation << 10) | rank;
    }

    private void awaitConnected() {
        long start = System.nanoTime();
        long limit = settings.connectTimeout().toNanos();
        while (true) {
            List<Integer> missing = new ArrayList<>();
            for (int p = 0; p < size; p++) {
                if (p == rank) {
                    continue;
                }
                if (images[p] == null) {
                    Subscription sub = world.sharesDriver(rank, p) ? ipcInbox : udpInbox;
                    images[p] = sub.imageBySessionId(sessionId(world.generation(), p));
                }
                if (images[p] == null || !publications[p].isConnected()) {
                    missing.add(p);
                }
            }
            if (missing.isEmpty()) {
                log.debug("Rank {} of {} connected ({})", rank, size, world);
                return;
            }
            long waited = System.nanoTime() - start;
            if (waited > limit) {
                throw new CollectiveTimeoutException(
                        "rank " + rank + " of " + world + ": ranks " + missing + " did not connect within "
                                + settings.connectTimeout().toMillis() + " ms",
                        missing,
                        waited / 1_000_000);
            }
            try {
                Thread.sleep(1);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CollectiveException("interrupted while connecting", e);
            }
        }
    }

    /** The publication to every peer, by rank (null at this rank). */
    ExclusivePublication[] publications() {
        return publications;
    }

    /** The publication to {@code peer}. */
    ExclusivePublication publication(int peer) {
        return publications[peer];
    }

    /** The image of {@code peer} in this rank's inbox. */
    Image image(int peer) {
        return images[peer];
    }

    /** The IPC inbox, or null when no peer shares this rank's media driver. */
    Subscription ipcInbox() {
        return ipcInbox;
    }

    /** The UDP inbox, or null when every peer shares this rank's media driver. */
    Subscription udpInbox() {
        return udpInbox;
    }

    /** Closes the publications, the inbox and the Aeron client (not the media driver). Idempotent. */
    @Override
    public void close() {
        CloseHelper.quietCloseAll(publications);
        CloseHelper.quietCloseAll(ipcInbox, udpInbox);
        CloseHelper.quietClose(aeron);
    }
}
