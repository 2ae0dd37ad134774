package dev.dinoj.deploy.cli;

import dev.dinoj.deploy.errors.UserError;
import dev.dinoj.trainer.bench.CollectiveBench;
import dev.dinoj.trainer.bench.CollectiveBenchReport;
import dev.dinoj.trainer.collective.CollectiveSettings;
import dev.dinoj.trainer.collective.WireFormat;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dinoj bench collectives --ranks 2|4 --sizes 1MiB,16MiB,128MiB}. */
@Command(
        name = "collectives",
        mixinStandardHelpOptions = true,
        description = {
            "Bandwidth of the Aeron collectives: all-reduce, reduce-scatter and all-gather of float32 vectors, "
                    + "each rank a JVM of its own on this machine.",
            "Prints algorithm bandwidth (size / time) and bus bandwidth (nccl-tests ring factors: all-reduce 2(N-1)/N, "
                    + "reduce-scatter and all-gather (N-1)/N) beside the figures of PyTorch's gloo backend measured on a "
                    + "2-core development machine (not in this run) and this machine's memcpy bandwidth; then one "
                    + "JSON line."
        })
public final class BenchCollectivesCommand implements Callable<Integer> {

    @Option(names = "--ranks", defaultValue = "2", description = "ranks (JVMs), >= 2 (default ${DEFAULT-VALUE})")
    int ranks;

    @Option(
            names = "--sizes",
            defaultValue = "1MiB,16MiB,128MiB",
            description = "vector sizes (default ${DEFAULT-VALUE})")
    String sizes;

    @Option(
            names = "--transport",
            defaultValue = "ipc",
            description = "ipc: one media driver shared by the ranks (shared memory); udp: a driver per rank over "
                    + "127.0.0.1 (default ${DEFAULT-VALUE})")
    String transport;

    @Option(names = "--wire", defaultValue = "f32", description = "f32 or bf16 on the wire (default ${DEFAULT-VALUE})")
    String wire;

    @Option(
            names = "--seconds",
            defaultValue = "1.0",
            description = "timed seconds per op and size (default ${DEFAULT-VALUE})")
    double seconds;

    @Option(
            names = "--idle",
            defaultValue = "backoff",
            description = "backoff, yield or busy (default ${DEFAULT-VALUE})")
    String idle;

    @Option(
            names = "--term-mib",
            defaultValue = "16",
            description = "ring term length in MiB, a power of two (default ${DEFAULT-VALUE})")
    int termMib;

    @Override
    public Integer call() throws Exception {
        if (ranks < 2 || ranks > 64) {
            throw new UserError("--ranks must be in [2, 64]: " + ranks);
        }
        long[] s;
        WireFormat w;
        CollectiveSettings settings;
        try {
            s = CollectiveBench.parseSizes(sizes);
            w = WireFormat.parse(wire);
            settings = CollectiveSettings.defaults()
                    .withTimeout(Duration.ofSeconds(60))
                    .withIdle(idle)
                    .withTermLengths(termMib << 20, 1 << 20);
        } catch (IllegalArgumentException e) {
            throw new UserError(e.getMessage());
        }
        CollectiveBenchReport r = CollectiveBench.run(ranks, s, transport, w, seconds, settings, System.err::println);
        System.out.print(r.table());
        System.out.println(r.json());
        return 0;
    }
}
