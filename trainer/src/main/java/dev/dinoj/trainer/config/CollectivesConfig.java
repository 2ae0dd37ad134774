package dev.dinoj.trainer.config;

import dev.dinoj.trainer.collective.CollectiveSettings;
import dev.dinoj.trainer.collective.LocalRanks;
import dev.dinoj.trainer.collective.WireFormat;
import java.io.IOException;
import java.util.List;

/**
 * Multi-rank training ({@code dinoj.collectives.*}): the Aeron settings of the collectives and how the sharded step
 * uses them.
 *
 * @param aeron             the collectives' own settings (timeouts, MTU, terms, idle strategy, UDP buffers)
 * @param gradientWire      wire format of the gradient reduce-scatter
 * @param overlap           reduce-scatter buckets of gradients while the backward goes on
 * @param transport         {@code ipc} (one media driver, one host) or {@code udp}
 * @param basePort          UDP port of rank 0; 0 = a free one
 * @param threadsPerRankSet {@code threads-per-rank} as configured (0 = cores / ranks)
 */
public record CollectivesConfig(
        CollectiveSettings aeron,
        WireFormat gradientWire,
        boolean overlap,
        String transport,
        int basePort,
        int threadsPerRankSet) {

    static CollectivesConfig from(ConfigReader r) {
        String p = "dinoj.collectives.";
        CollectiveSettings aeron = aeron(r, p);
        String w = r.string(p + "gradient-wire");
        WireFormat wire;
        try {
            wire = WireFormat.parse(w);
        } catch (IllegalArgumentException e) {
            throw new ConfigError(p + "gradient-wire = " + w + ": use f32 or bf16");
        }
        String t = r.string(p + "transport");
        if (!t.equals("ipc") && !t.equals("udp")) {
            throw new ConfigError(p + "transport = " + t + " must be ipc or udp");
        }
        int port = r.intAt(p + "base-port", 0, 65535);
        if (port > 65000) {
            throw new ConfigError(p + "base-port = " + port + " must be in [0, 65000] (0 = a free port)");
        }
        int threads = r.intAt(p + "threads-per-rank", 0, Bounds.THREADS);
        return new CollectivesConfig(aeron, wire, r.bool(p + "overlap"), t, port, threads);
    }

    private static CollectiveSettings aeron(ConfigReader r, String p) {
        var timeout = r.positiveDuration(p + "timeout");
        var connect = r.positiveDuration(p + "connect-timeout");
        int mtu = r.intAt(p + "mtu", 128, Integer.MAX_VALUE);
        if (mtu % 32 != 0 || mtu > CollectiveSettings.MAX_MTU) {
            throw new ConfigError(
                    p + "mtu = " + mtu + " must be a multiple of 32 in [128, " + CollectiveSettings.MAX_MTU + "]");
        }
        int ring = termAt(r, p + "ring-term-length", mtu);
        int small = termAt(r, p + "small-term-length", mtu);
        int stream = r.intAt(p + "stream-id-base", 1, Integer.MAX_VALUE - 4096);
        long smallMax = r.bytes(p + "small-max-bytes");
        if (smallMax < 0 || smallMax > 1 << 30) {
            throw new ConfigError(p + "small-max-bytes = " + smallMax + " must be in [0, 1 GiB]");
        }
        String idle = r.string(p + "idle");
        if (!List.of("backoff", "yield", "busy").contains(idle)) {
            throw new ConfigError(p + "idle = " + idle + " must be backoff, yield or busy");
        }
        long sock = r.bytes(p + "udp-socket-buffer");
        long window = r.bytes(p + "udp-receiver-window");
        if (sock < 64 * 1024 || sock > 1 << 30) {
            throw new ConfigError(p + "udp-socket-buffer = " + sock + " must be in [64 KiB, 1 GiB]");
        }
        if (window < mtu || window > 1 << 30) {
            throw new ConfigError(p + "udp-receiver-window = " + window + " must be in [mtu (" + mtu + "), 1 GiB]");
        }
        return new CollectiveSettings(
                timeout, connect, mtu, ring, small, stream, (int) smallMax, idle, (int) sock, (int) window);
    }

    private static int termAt(ConfigReader r, String key, int mtu) {
        long t = r.bytes(key);
        if (Long.bitCount(t) != 1 || t < 64 * 1024 || t > 1 << 30) {
            throw new ConfigError(key + " = " + t + " bytes must be a power of two in [64 KiB, 1 GiB]");
        }
        if (t / 8 < mtu) {
            throw new ConfigError(key + " = " + t + " bytes must be at least 8 x dinoj.collectives.mtu (" + mtu
                    + "): Aeron's largest message is a term / 8");
        }
        return (int) t;
    }

    /** PyTorch threads of each of {@code ranks} ranks: {@code threads-per-rank}, or cores / ranks. */
    public int threadsPerRank(int ranks) {
        return threadsPerRankSet > 0
                ? threadsPerRankSet
                : Math.max(1, Runtime.getRuntime().availableProcessors() / Math.max(1, ranks));
    }

    /** The JVM options of each of {@code ranks} rank JVMs: their PyTorch threads, one inter-op thread. */
    public List<String> rankJvmOptions(int ranks) {
        return List.of(
                "-Dai.djl.pytorch.num_threads=" + threadsPerRank(ranks), "-Dai.djl.pytorch.num_interop_threads=1");
    }

    /** A world of {@code ranks} rank JVMs on this host with these settings (the caller starts and closes it). */
    public LocalRanks formLocalRanks(int ranks) throws IOException {
        return LocalRanks.form(ranks, transport, basePort, aeron);
    }
}
