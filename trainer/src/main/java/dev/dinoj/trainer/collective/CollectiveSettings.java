package dev.dinoj.trainer.collective;

import java.time.Duration;
import java.util.Locale;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.YieldingIdleStrategy;

/**
 * Settings of the collectives; every rank of a world must use the same values.
 *
 * @param timeout            a collective that makes no progress (no chunk sent or received) for this long fails
 *                           with {@link CollectiveTimeoutException}
 * @param connectTimeout     how long {@link Communicator#join} waits for every peer to appear
 * @param mtu                Aeron MTU of every publication (IPC and UDP): a multiple of 32, at most 65504; each
 *                           chunk is one frame of at most {@code mtu − 32} bytes (48 of them our header)
 * @param ringTermLength     term length of the publication to the ring neighbour (bulk data); a power of two,
 *                           at least 8 × mtu (Aeron's max message length is term / 8)
 * @param smallTermLength    term length of the publications to the other peers (small all-reduce, barrier)
 * @param streamIdBase       Aeron stream id of rank 0's inbox; rank r listens on {@code streamIdBase + r}
 * @param smallMaxBytes      all-reduces of at most this many float32 bytes use the one-round all-to-all
 *                           algorithm (latency) instead of the ring (bandwidth)
 * @param idle               how a waiting rank idles: {@code backoff} (spin, yield, then park up to 50 µs),
 *                           {@code yield}, or {@code busy}
 * @param udpSocketBuffer    SO_SNDBUF / SO_RCVBUF of UDP channels (bytes; the kernel caps it at net.core.rmem_max)
 * @param udpReceiverWindow  Aeron receiver window of UDP channels (bytes, at least mtu)
 */
public record CollectiveSettings(
        Duration timeout,
        Duration connectTimeout,
        int mtu,
        int ringTermLength,
        int smallTermLength,
        int streamIdBase,
        int smallMaxBytes,
        String idle,
        int udpSocketBuffer,
        int udpReceiverWindow) {

    /** Aeron's largest MTU (UDP payload limit, rounded down to the 32-byte frame alignment). */
    public static final int MAX_MTU = 65504;

    public CollectiveSettings {
        if (timeout.isNegative() || timeout.isZero() || connectTimeout.isNegative() || connectTimeout.isZero()) {
            throw new IllegalArgumentException(
                    "collective timeouts must be positive: " + timeout + ", " + connectTimeout);
        }
        if (mtu % 32 != 0 || mtu > MAX_MTU || mtu < 128) {
            throw new IllegalArgumentException(
                    "collectives mtu = " + mtu + " must be a multiple of 32 in [128, " + MAX_MTU + "]");
        }
        checkTerm("ring term length", ringTermLength, mtu);
        checkTerm("small term length", smallTermLength, mtu);
        if (streamIdBase <= 0) {
            throw new IllegalArgumentException("streamIdBase must be > 0: " + streamIdBase);
        }
        if (smallMaxBytes < 0) {
            throw new IllegalArgumentException("smallMaxBytes must be >= 0: " + smallMaxBytes);
        }
        idleStrategy(idle);
        if (udpReceiverWindow < mtu) {
            throw new IllegalArgumentException("udp receiver window " + udpReceiverWindow + " must be >= mtu " + mtu);
        }
    }

    private static void checkTerm(String what, int term, int mtu) {
        if (Integer.bitCount(term) != 1 || term < 64 * 1024 || term > 1 << 30) {
            throw new IllegalArgumentException(what + " = " + term + " must be a power of two in [64 KiB, 1 GiB]");
        }
        if (term / 8 < mtu) {
            throw new IllegalArgumentException(what + " = " + term + " must be at least 8 x mtu (" + mtu
                    + "): Aeron's max message length is term length / 8");
        }
    }

    /** Defaults: 30 s timeout, 60 s to connect, MTU 65504 (IPC / loopback), 16 MiB ring terms, 1 MiB small terms. */
    public static CollectiveSettings defaults() {
        return new CollectiveSettings(
                Duration.ofSeconds(30),
                Duration.ofSeconds(60),
                MAX_MTU,
                16 << 20,
                1 << 20,
                7100,
                64 * 1024,
                "backoff",
                4 << 20,
                4 << 20);
    }

    public CollectiveSettings withTimeout(Duration t) {
        return new CollectiveSettings(
                t,
                connectTimeout,
                mtu,
                ringTermLength,
                smallTermLength,
                streamIdBase,
                smallMaxBytes,
                idle,
                udpSocketBuffer,
                udpReceiverWindow);
    }

    public CollectiveSettings withConnectTimeout(Duration t) {
        return new CollectiveSettings(
                timeout,
                t,
                mtu,
                ringTermLength,
                smallTermLength,
                streamIdBase,
                smallMaxBytes,
                idle,
                udpSocketBuffer,
                udpReceiverWindow);
    }

    public CollectiveSettings withMtu(int m) {
        return new CollectiveSettings(
                timeout,
                connectTimeout,
                m,
                ringTermLength,
                smallTermLength,
                streamIdBase,
                smallMaxBytes,
                idle,
                udpSocketBuffer,
                Math.max(udpReceiverWindow, m));
    }

    public CollectiveSettings withTermLengths(int ring, int small) {
        return new CollectiveSettings(
                timeout,
                connectTimeout,
                mtu,
                ring,
                small,
                streamIdBase,
                smallMaxBytes,
                idle,
                udpSocketBuffer,
                udpReceiverWindow);
    }

    public CollectiveSettings withSmallMaxBytes(int b) {
        return new CollectiveSettings(
                timeout,
                connectTimeout,
                mtu,
                ringTermLength,
                smallTermLength,
                streamIdBase,
                b,
                idle,
                udpSocketBuffer,
                udpReceiverWindow);
    }

    public CollectiveSettings withIdle(String i) {
        return new CollectiveSettings(
                timeout,
                connectTimeout,
                mtu,
                ringTermLength,
                smallTermLength,
                streamIdBase,
                smallMaxBytes,
                i,
                udpSocketBuffer,
                udpReceiverWindow);
    }

    public CollectiveSettings withStreamIdBase(int s) {
        return new CollectiveSettings(
                timeout,
                connectTimeout,
                mtu,
                ringTermLength,
                smallTermLength,
                s,
                smallMaxBytes,
                idle,
                udpSocketBuffer,
                udpReceiverWindow);
    }

    /** A fresh idle strategy for a waiting loop. */
    public IdleStrategy newIdleStrategy() {
        return idleStrategy(idle);
    }

    private static IdleStrategy idleStrategy(String name) {
        switch (name.toLowerCase(Locale.ROOT)) {
            case "backoff":
                return new BackoffIdleStrategy(64, 16, 1_000, 50_000);
            case "yield":
                return new YieldingIdleStrategy();
            case "busy":
                return new BusySpinIdleStrategy();
            default:
                throw new IllegalArgumentException("unknown idle strategy '" + name + "': use backoff, yield or busy");
        }
    }

    /**
     * Settings as command-line style text, e.g. for a child process: {@code timeoutMs,connectMs,mtu,ring,small,stream,
     * smallMax,idle,sockbuf,rcvwnd}.
     */
    public String encode() {
        return timeout.toMillis() + "," + connectTimeout.toMillis() + "," + mtu + "," + ringTermLength + ","
                + smallTermLength + "," + streamIdBase + "," + smallMaxBytes + "," + idle + "," + udpSocketBuffer
                + "," + udpReceiverWindow;
    }

    /** The inverse of {@link #encode()}. */
    public static CollectiveSettings decode(String s) {
        String[] p = s.split(",");
        if (p.length != 10) {
            throw new IllegalArgumentException("collective settings need 10 comma-separated fields: " + s);
        }
        return new CollectiveSettings(
                Duration.ofMillis(Long.parseLong(p[0])),
                Duration.ofMillis(Long.parseLong(p[1])),
                Integer.parseInt(p[2]),
                Integer.parseInt(p[3]),
                Integer.parseInt(p[4]),
                Integer.parseInt(p[5]),
                Integer.parseInt(p[6]),
                p[7],
                Integer.parseInt(p[8]),
                Integer.parseInt(p[9]));
    }
}
