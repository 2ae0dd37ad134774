package dev.dinoj.trainer.collective;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.net.DatagramSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * N rank JVMs on this host, as {@code ./dinoj train --ranks N} and {@code ./dinoj bench train-step --ranks N} start
 * them: with {@code ipc} this JVM hosts one media driver that all ranks share (shared memory between them), with
 * {@code udp} every rank launches its own driver and they talk over 127.0.0.1. Every rank gets the world spec on its
 * command line and the world's secret, drawn here, in its environment ({@link World#SECRET_ENV}; ranks read it with
 * {@link World#fromEnvironment}); its output goes to {@code rank-R.log} in the log directory. If one rank fails, the
 * others are stopped and the failure is reported with the tail of its log.
 */
public final class LocalRanks implements AutoCloseable {

    private final World world;
    private final EmbeddedDriver driver;
    private final List<Process> processes = new ArrayList<>();
    private final List<Path> logs = new ArrayList<>();
    private final boolean ownDrivers;
    private final Thread shutdownHook = new Thread(this::stopGracefully, "dinoj-ranks-shutdown");

    private LocalRanks(World world, EmbeddedDriver driver, boolean ownDrivers) {
        this.world = world;
        this.driver = driver;
        this.ownDrivers = ownDrivers;
        Runtime.getRuntime().addShutdownHook(shutdownHook); // SIGTERM / Ctrl-C of the launcher stops the ranks
    }

    /**
     * Called first thing by a rank's {@code main}: halts the rank (exit 4) when the JVM that started it is gone, so a
     * launcher killed with {@code kill -9} leaves no ranks behind (with ipc they would fail anyway once the shared
     * media driver disappears; with udp they would train on).
     */
    public static void exitWithLauncher() {
        ProcessHandle parent = ProcessHandle.current().parent().orElse(null);
        if (parent == null) {
            return;
        }
        long pid = parent.pid();
        Thread t = new Thread(
                () -> {
                    while (true) {
                        try {
                            Thread.sleep(1000);
                        } catch (InterruptedException e) {
                            return;
                        }
                        long now = ProcessHandle.current()
                                .parent()
                                .map(ProcessHandle::pid)
                                .orElse(-1L);
                        if (now != pid || !parent.isAlive()) {
                            System.out.println(
                                    "FAILED the launching JVM (pid " + pid + ") is gone; stopping this rank");
                            System.out.flush();
                            Runtime.getRuntime().halt(4);
                        }
                    }
                },
                "dinoj-launcher-watch");
        t.setDaemon(true);
        t.start();
    }

    /**
     * Forms a local world of {@code n} ranks with a fresh secret (no processes yet).
     *
     * @param transport {@code ipc} or {@code udp}
     * @param basePort  UDP port of rank 0, 0 = a free one
     */
    public static LocalRanks form(int n, String transport, int basePort, CollectiveSettings settings)
            throws IOException {
        if (n < 1) {
            throw new IllegalArgumentException("at least one rank: " + n);
        }
        String base = Files.isDirectory(Path.of("/dev/shm")) ? "/dev/shm/" : System.getProperty("java.io.tmpdir") + "/";
        String dir = base + "dinoj-ranks-" + ProcessHandle.current().pid() + "-"
                + UUID.randomUUID().toString().substring(0, 8);
        int port = basePort > 0 ? basePort : freeUdpPort();
        if ("ipc".equals(transport)) {
            EmbeddedDriver d = n > 1 ? EmbeddedDriver.launch(dir, settings) : null;
            return new LocalRanks(World.localIpc(n, dir, port, 0), d, false);
        }
        if ("udp".equals(transport)) {
            return new LocalRanks(World.localUdp(n, dir + "-rank", port, 0), null, n > 1);
        }
        throw new IllegalArgumentException("transport must be ipc or udp: " + transport);
    }

    public World world() {
        return world;
    }

    /** Whether each rank must launch its own media driver (udp) rather than use the shared one (ipc). */
    public boolean ranksLaunchDrivers() {
        return ownDrivers;
    }

    /**
     * Starts every rank: {@code mainClass} with the arguments {@code args.apply(rank)} and the world's secret in its
     * environment.
     *
     * @param jvmOptions e.g. {@code -Dai.djl.pytorch.num_threads=1}
     * @param logDir     where {@code rank-R.log} go
     */
    public void start(
            String heap, List<String> jvmOptions, String mainClass, IntFunction<List<String>> args, Path logDir)
            throws IOException {
        Files.createDirectories(logDir);
        for (int r = 0; r < world.size(); r++) {
            Path log = logDir.resolve("rank-" + r + ".log");
            logs.add(log);
            processes.add(ChildJvm.start(
                    heap, jvmOptions, mainClass, args.apply(r), world.secretEnvironment(), log.toFile()));
        }
    }

    /** The log of a rank. */
    public Path log(int rank) {
        return logs.get(rank);
    }

    /**
     * Waits for every rank to exit 0, handing each new line of rank 0's log to {@code rank0Lines} as it appears.
     *
     * @param timeoutMillis overall limit
     * @throws IOException naming the first rank that failed (exit code, log, last lines) or the time-out
     */
    public void await(long timeoutMillis, Consumer<String> rank0Lines) throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        long offset = 0;
        StringBuilder partial = new StringBuilder();
        while (true) {
            offset = follow(logs.get(0), offset, partial, rank0Lines);
            boolean alive = false;
            for (int r = 0; r < processes.size(); r++) {
                Process p = processes.get(r);
                if (p.isAlive()) {
                    alive = true;
                } else if (p.exitValue() != 0) {
                    follow(logs.get(0), offset, partial, rank0Lines);
                    throw new IOException("rank " + r + " of " + world.size() + " failed (exit " + p.exitValue()
                            + "); log " + logs.get(r) + ":\n" + tail(logs.get(r), 25));
                }
            }
            if (!alive) {
                follow(logs.get(0), offset, partial, rank0Lines);
                return;
            }
            if (System.currentTimeMillis() > deadline) {
                throw new IOException("the ranks did not finish within " + timeoutMillis / 1000 + " s; logs in "
                        + logs.get(0).getParent());
            }
            Thread.sleep(100);
        }
    }

    private static long follow(Path log, long offset, StringBuilder partial, Consumer<String> sink) throws IOException {
        if (!Files.exists(log)) {
            return offset;
        }
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
            long len = f.length();
            if (len <= offset) {
                return offset;
            }
            byte[] b = new byte[(int) Math.min(len - offset, 1 << 20)];
            f.seek(offset);
            f.readFully(b);
            partial.append(new String(b, StandardCharsets.UTF_8));
            int nl;
            while ((nl = partial.indexOf("\n")) >= 0) {
                sink.accept(partial.substring(0, nl));
                partial.delete(0, nl + 1);
            }
            return offset + b.length;
        }
    }

    /**
     * The launcher is exiting (SIGTERM, Ctrl-C): passes SIGTERM on to the ranks, which finish their step, agree on it,
     * checkpoint and exit, and waits for them (this JVM's media driver keeps serving them meanwhile) — at most the
     * grace of {@link ShutdownStop} and a little, then kills what is left.
     */
    private void stopGracefully() {
        for (Process p : processes) {
            if (p.isAlive()) {
                p.destroy();
            }
        }
        long deadline =
                System.nanoTime() + ShutdownStop.DEFAULT_GRACE.plusSeconds(10).toNanos();
        for (Process p : processes) {
            try {
                p.waitFor(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        stopProcesses();
    }

    private void stopProcesses() {
        for (Process p : processes) {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
        }
        for (Process p : processes) {
            try {
                p.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The last {@code lines} lines of a file. */
    public static String tail(Path f, int lines) throws IOException {
        List<String> all = Files.readAllLines(f);
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    /** Stops ranks still running, the shared driver, and removes driver directories left by killed ranks. */
    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // already shutting down: the hook runs
        }
        stopProcesses();
        if (driver != null) {
            driver.close();
        }
        for (Member m : world.members()) {
            EmbeddedDriver.deleteQuietly(Path.of(m.driverDir()));
        }
    }

    /** A UDP port that was free a moment ago (the ranks use it and the next ones). */
    public static int freeUdpPort() throws IOException {
        for (int attempt = 0; attempt < 20; attempt++) {
            try (DatagramSocket s = new DatagramSocket(0)) {
                int p = s.getLocalPort();
                if (p < 65000) {
                    return p;
                }
            }
        }
        throw new IOException("no free UDP port found");
    }
}
