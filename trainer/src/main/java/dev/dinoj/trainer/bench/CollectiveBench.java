package dev.dinoj.trainer.bench;

import dev.dinoj.trainer.collective.ChildJvm;
import dev.dinoj.trainer.collective.CollectiveSettings;
import dev.dinoj.trainer.collective.Communicator;
import dev.dinoj.trainer.collective.EmbeddedDriver;
import dev.dinoj.trainer.collective.LocalRanks;
import dev.dinoj.trainer.collective.Partition;
import dev.dinoj.trainer.collective.ReduceOp;
import dev.dinoj.trainer.collective.WireFormat;
import dev.dinoj.trainer.collective.World;
import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * {@code dinoj bench collectives}: every rank is a JVM of its own (as gloo's ranks are processes); the ranks time
 * all-reduce, reduce-scatter and all-gather of float32 vectors of each size, and this process reports algorithm
 * bandwidth ({@code size / time}) and bus bandwidth with nccl-tests' ring factors: all-reduce
 * {@code 2(N−1)/N}, reduce-scatter and all-gather {@code (N−1)/N} (size = the whole vector), beside the memcpy
 * bandwidth of this machine. The time of an iteration: the timed iterations run in 5 blocks, a block's mean per
 * iteration is the slowest rank's, and the median block is reported.
 */
public final class CollectiveBench {

    private static final String[] OPS = {"reduce_scatter", "all_gather", "all_reduce"};

    /** gloo over 127.0.0.1 (torch.distributed, measured beside dinoj; docs/COLLECTIVES.md), bus bandwidth in GB/s, keyed op/ranks/MiB. */
    private static final Map<String, Double> GLOO = Map.ofEntries(
            Map.entry("all_reduce/2/1", 0.32),
            Map.entry("all_reduce/2/16", 1.15),
            Map.entry("all_reduce/2/128", 1.11),
            Map.entry("all_reduce/4/16", 0.59),
            Map.entry("all_reduce/4/128", 0.61),
            Map.entry("all_gather/2/1", 0.29),
            Map.entry("all_gather/2/16", 0.65),
            Map.entry("all_gather/2/128", 0.28),
            Map.entry("all_gather/4/16", 0.53),
            Map.entry("all_gather/4/128", 0.26),
            Map.entry("reduce_scatter/2/1", 0.16),
            Map.entry("reduce_scatter/2/16", 0.47),
            Map.entry("reduce_scatter/2/128", 0.42),
            Map.entry("reduce_scatter/4/16", 0.27),
            Map.entry("reduce_scatter/4/128", 0.30));

    /** One measurement. */
    public record Row(
            String op,
            int ranks,
            long bytes,
            double seconds,
            int iterations,
            double algBw,
            double busBw,
            Double glooBusBw) {}

    private CollectiveBench() {}

    /** "1MiB,16MiB,128MiB" → bytes (KiB, MiB, GiB, KB, MB, GB or plain bytes), rounded down to whole floats. */
    public static long[] parseSizes(String spec) {
        String[] parts = spec.split(",");
        long[] out = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            String s = parts[i].trim().toUpperCase(Locale.ROOT);
            long mult = 1;
            for (String[] u : new String[][] {
                {"GIB", "1073741824"},
                {"MIB", "1048576"},
                {"KIB", "1024"},
                {"GB", "1000000000"},
                {"MB", "1000000"},
                {"KB", "1000"},
                {"B", "1"}
            }) {
                if (s.endsWith(u[0])) {
                    mult = Long.parseLong(u[1]);
                    s = s.substring(0, s.length() - u[0].length());
                    break;
                }
            }
            out[i] = Math.round(Double.parseDouble(s.trim()) * mult) / 4 * 4;
            if (out[i] <= 0 || out[i] > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("size " + parts[i] + " must be in (0, 2 GiB)");
            }
        }
        return out;
    }

    static String size(long bytes) {
        if (bytes % (1 << 20) == 0) {
            return bytes / (1 << 20) + " MiB";
        }
        if (bytes % 1024 == 0) {
            return bytes / 1024 + " KiB";
        }
        return bytes + " B";
    }

    /**
     * Runs the benchmark: starts {@code ranks} JVMs (IPC: one media driver in this process shared by all of them; UDP:
     * a driver per rank on loopback), collects rank 0's timings, then measures memcpy here.
     *
     * @param transport {@code ipc} or {@code udp}
     */
    public static CollectiveBenchReport run(
            int ranks,
            long[] sizes,
            String transport,
            WireFormat wire,
            double secondsPerPoint,
            CollectiveSettings settings,
            PrintLogger out)
            throws IOException, InterruptedException {
        if (ranks < 2) {
            throw new IllegalArgumentException("--ranks must be >= 2");
        }
        String loadBefore = loadAverage("");
        String tag = "dinoj-bench-" + ProcessHandle.current().pid();
        String base = Files.isDirectory(Path.of("/dev/shm")) ? "/dev/shm/" : System.getProperty("java.io.tmpdir") + "/";
        int basePort = LocalRanks.freeUdpPort();
        World world;
        EmbeddedDriver driver = null;
        boolean ownDrivers;
        if ("ipc".equals(transport)) {
            driver = EmbeddedDriver.launch(base + tag, settings);
            world = World.localIpc(ranks, driver.directory(), basePort, 0);
            ownDrivers = false;
        } else if ("udp".equals(transport)) {
            world = World.localUdp(ranks, base + tag + "-rank", basePort, 0);
            ownDrivers = true;
        } else {
            throw new IllegalArgumentException("--transport must be ipc or udp: " + transport);
        }
        StringBuilder sizeArg = new StringBuilder();
        for (long s : sizes) {
            sizeArg.append(sizeArg.length() > 0 ? "," : "").append(s);
        }
        long maxSize = 0;
        for (long s : sizes) {
            maxSize = Math.max(maxSize, s);
        }
        String heap = Math.max(256, 2 * maxSize / (1 << 20) + 128) + "m";
        List<Process> procs = new ArrayList<>();
        List<File> logs = new ArrayList<>();
        List<Row> rows = new ArrayList<>();
        try {
            for (int r = 0; r < ranks; r++) {
                File log = File.createTempFile(tag + "-rank" + r + "-", ".log"); // kept when the rank fails
                logs.add(log);
                procs.add(ChildJvm.start(
                        heap,
                        List.of(),
                        CollectiveBench.class.getName(),
                        List.of(
                                "worker",
                                Integer.toString(r),
                                world.spec(),
                                settings.encode(),
                                sizeArg.toString(),
                                wire.name(),
                                Double.toString(secondsPerPoint),
                                Boolean.toString(ownDrivers)),
                        world.secretEnvironment(),
                        log));
            }
            out.println("started " + ranks + " rank JVMs (" + transport + "), measuring…");
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(20);
            while (procs.stream().anyMatch(Process::isAlive)) {
                for (int r = 0; r < ranks; r++) {
                    Process p = procs.get(r);
                    if (!p.isAlive() && p.exitValue() != 0) {
                        throw new IOException("rank " + r + " failed (exit " + p.exitValue() + "), log " + logs.get(r)
                                + ":\n" + tail(logs.get(r)));
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new IOException("the ranks did not finish within 20 minutes; logs: " + logs);
                }
                Thread.sleep(50);
            }
            for (int r = 0; r < ranks; r++) {
                if (procs.get(r).exitValue() != 0) {
                    throw new IOException("rank " + r + " failed (exit "
                            + procs.get(r).exitValue() + "), log " + logs.get(r) + ":\n" + tail(logs.get(r)));
                }
            }
            for (String line : Files.readAllLines(logs.get(0).toPath())) {
                if (line.startsWith("RESULT ")) {
                    String[] f = line.split(" ");
                    String op = f[1];
                    long bytes = Long.parseLong(f[2]);
                    double secs = Double.parseDouble(f[3]);
                    int iters = Integer.parseInt(f[4]);
                    double alg = bytes / secs / 1e9;
                    double factor = "all_reduce".equals(op) ? 2.0 * (ranks - 1) / ranks : (ranks - 1.0) / ranks;
                    Double gloo = bytes % (1 << 20) == 0 ? GLOO.get(op + "/" + ranks + "/" + bytes / (1 << 20)) : null;
                    rows.add(new Row(op, ranks, bytes, secs, iters, alg, alg * factor, gloo));
                }
            }
            for (File log : logs) {
                Files.deleteIfExists(log.toPath());
            }
        } finally {
            for (Process p : procs) {
                if (p.isAlive()) {
                    p.destroyForcibly();
                }
            }
            if (driver != null) {
                driver.close();
            }
        }
        double memcpy = memcpyGBps(Math.max(maxSize, 128L << 20)); // out of cache, as the anchors measure it
        String machine = Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.arch")
                + ", Java " + System.getProperty("java.version") + loadAverage(loadBefore);
        return new CollectiveBenchReport(
                ranks,
                transport,
                wire.name().toLowerCase(Locale.ROOT),
                rows,
                memcpy,
                2 * memcpy,
                machine,
                Instant.now().toString());
    }

    /** ", load average A (before) → B (after)" from /proc/loadavg: other processes on a shared machine show here. */
    private static String loadAverage(String before) {
        try {
            String now = Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
            return before.isEmpty() ? now : ", load average " + before + " -> " + now;
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    /** Where progress lines go. */
    public interface PrintLogger {
        void println(String line);
    }

    private static String tail(File f) throws IOException {
        List<String> lines = Files.readAllLines(f.toPath());
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    }

    /** Best of 5 single-thread copies of {@code bytes} between two direct buffers, in GB/s copied. */
    public static double memcpyGBps(long bytes) {
        int n = (int) Math.max(bytes, 1 << 20);
        UnsafeBuffer a = new UnsafeBuffer(ByteBuffer.allocateDirect(n));
        UnsafeBuffer b = new UnsafeBuffer(ByteBuffer.allocateDirect(n));
        a.setMemory(0, n, (byte) 1);
        b.setMemory(0, n, (byte) 2);
        double best = Double.MAX_VALUE;
        for (int i = 0; i < 7; i++) {
            long t0 = System.nanoTime();
            b.putBytes(0, a, 0, n);
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return n / best / 1e9;
    }

    // =================================================================================================================
    // A rank (child JVM)
    // =================================================================================================================

    /**
     * {@code worker RANK WORLD SETTINGS SIZES WIRE SECONDS OWN_DRIVER}: a rank of {@link #run} (the world's secret,
     * drawn by {@link #run}, in the environment); or
     * {@code run RANKS SIZES [ipc|udp] [f32|bf16] [SECONDS]}: the whole benchmark without the CLI.
     */
    public static void main(String[] args) throws Exception {
        if (args.length >= 3 && "run".equals(args[0])) {
            CollectiveBenchReport r = run(
                    Integer.parseInt(args[1]),
                    parseSizes(args[2]),
                    args.length > 3 ? args[3] : "ipc",
                    WireFormat.parse(args.length > 4 ? args[4] : "f32"),
                    args.length > 5 ? Double.parseDouble(args[5]) : 1.0,
                    CollectiveSettings.defaults().withTimeout(Duration.ofSeconds(60)),
                    System.err::println);
            System.out.print(r.table());
            System.out.println(r.json());
            System.exit(0);
        }
        if (args.length != 8 || !"worker".equals(args[0])) {
            System.err.println("usage: CollectiveBench worker RANK WORLD SETTINGS SIZES WIRE SECONDS OWN_DRIVER");
            System.exit(64);
        }
        int rank = Integer.parseInt(args[1]);
        watchdog(15);
        World world = World.fromEnvironment(args[2], 0);
        CollectiveSettings settings = CollectiveSettings.decode(args[3]);
        long[] sizes = parseSizes(args[4]);
        WireFormat wire = WireFormat.valueOf(args[5]);
        double seconds = Double.parseDouble(args[6]);
        boolean ownDriver = Boolean.parseBoolean(args[7]);
        EmbeddedDriver driver =
                ownDriver ? EmbeddedDriver.launch(world.member(rank).driverDir(), settings) : null;
        try (Communicator comm = Communicator.join(world, rank, settings)) {
            runRank(comm, sizes, wire, seconds);
        } finally {
            if (driver != null) {
                driver.close();
            }
        }
        System.exit(0);
    }

    /** A rank that is still running after {@code minutes} prints every thread's stack and halts (never a stuck bench). */
    static void watchdog(int minutes) {
        Thread t = new Thread(
                () -> {
                    try {
                        Thread.sleep(minutes * 60_000L);
                    } catch (InterruptedException e) {
                        return;
                    }
                    System.out.println("WATCHDOG: still running after " + minutes + " min; threads:");
                    Thread.getAllStackTraces().forEach((th, st) -> {
                        System.out.println(th);
                        for (StackTraceElement e : st) {
                            System.out.println("    at " + e);
                        }
                    });
                    System.out.flush();
                    Runtime.getRuntime().halt(5);
                },
                "dinoj-bench-watchdog");
        t.setDaemon(true);
        t.start();
    }

    private static void runRank(Communicator comm, long[] sizes, WireFormat wire, double seconds) {
        int n = comm.size();
        long max = 0;
        for (long s : sizes) {
            max = Math.max(max, s);
        }
        ByteBuffer v = ByteBuffer.allocateDirect((int) max).order(ByteOrder.nativeOrder());
        UnsafeBuffer u = new UnsafeBuffer(v);
        for (long size : sizes) {
            int count = (int) (size / 4);
            Partition p = Partition.even(count, n);
            // correctness first: rank r contributes r + 1 everywhere
            fill(u, count, comm.rank() + 1);
            comm.ringAllReduce(v, count, wire);
            float want = n * (n + 1) / 2f;
            for (int i = 0; i < count; i += Math.max(1, count / 1024)) {
                if (u.getFloat(i << 2) != want) {
                    throw new IllegalStateException("all-reduce of " + size + " bytes: element " + i + " is "
                            + u.getFloat(i << 2) + ", expected " + want);
                }
            }
            fill(u, count, 0);
            for (String op : OPS) {
                // warm-up (JIT, first touch of the log buffers): at least 3 iterations and a quarter of the time
                // budget,
                // then as many timed iterations as fit the budget (all ranks agree on the count)
                double[] warm = {0};
                double warmed = 0;
                for (int round = 0; round < 50 && (round < 3 || warmed < seconds / 4); round++) {
                    long w0 = System.nanoTime();
                    op(comm, op, v, count, p, wire);
                    warm[0] = (System.nanoTime() - w0) / 1e9;
                    double[] total = {warmed + warm[0]};
                    comm.allReduce(total, ReduceOp.MAX); // every rank stops warming at the same round
                    warmed = total[0];
                }
                comm.allReduce(warm, ReduceOp.MAX);
                // 5 blocks of iterations; a block's time is the slowest rank's; the median block is reported (the
                // machine is shared: the median is robust to another process taking the cores for a while)
                int perBlock = (int) Math.max(1, Math.min(100, Math.ceil(seconds / 5 / Math.max(warm[0], 1e-6))));
                double[] blocks = new double[5];
                for (int b = 0; b < blocks.length; b++) {
                    comm.barrier();
                    long t0 = System.nanoTime();
                    for (int i = 0; i < perBlock; i++) {
                        op(comm, op, v, count, p, wire);
                    }
                    double[] t = {(System.nanoTime() - t0) / 1e9 / perBlock};
                    comm.allReduce(t, ReduceOp.MAX);
                    blocks[b] = t[0];
                }
                Arrays.sort(blocks);
                if (comm.rank() == 0) {
                    System.out.println("RESULT " + op + " " + size + " " + blocks[2] + " " + 5 * perBlock);
                    System.out.flush();
                }
            }
        }
        comm.barrier();
    }

    private static void fill(UnsafeBuffer u, int count, float value) {
        for (int i = 0; i < count; i++) {
            u.putFloat(i << 2, value);
        }
    }

    private static void op(Communicator comm, String op, ByteBuffer v, int count, Partition p, WireFormat wire) {
        switch (op) {
            case "all_reduce":
                comm.ringAllReduce(v, count, wire);
                break;
            case "reduce_scatter":
                comm.reduceScatter(v, p, wire);
                break;
            default:
                comm.allGather(v, p, wire);
                break;
        }
    }
}
