package dev.dinoj.trainer.collective;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Worlds of ranks on loopback for tests: media drivers under /dev/shm, ranks as threads or processes. */
public final class TestWorlds implements AutoCloseable {

    /** How ranks talk. */
    public enum Transport {
        IPC,
        UDP
    }

    /** A rank's body, run on its own thread with its communicator. */
    public interface RankBody<T> {
        T run(Communicator comm) throws Exception;
    }

    private final List<EmbeddedDriver> drivers = new ArrayList<>();
    private final World world;
    private final CollectiveSettings settings;

    /**
     * Starts the media drivers of a world of {@code n}: one shared by all ranks (IPC) or one per rank (UDP).
     *
     * @param launchDrivers false when the ranks (child processes) start their own drivers
     */
    public TestWorlds(int n, Transport transport, CollectiveSettings settings, int generation, boolean launchDrivers)
            throws Exception {
        this.settings = settings;
        String dir = "/dev/shm/dinoj-test-" + UUID.randomUUID();
        int port = LocalRanks.freeUdpPort();
        if (transport == Transport.IPC) {
            world = World.localIpc(n, dir, port, generation);
            if (launchDrivers) {
                drivers.add(EmbeddedDriver.launch(dir, settings));
            }
        } else {
            world = World.localUdp(n, dir + "-rank", port, generation);
            if (launchDrivers) {
                for (int r = 0; r < n; r++) {
                    drivers.add(EmbeddedDriver.launch(world.member(r).driverDir(), settings));
                }
            }
        }
    }

    public World world() {
        return world;
    }

    public CollectiveSettings settings() {
        return settings;
    }

    /** Runs {@code body} on every rank (one thread each) and returns the results in rank order; rethrows a failure. */
    public <T> List<T> run(RankBody<T> body) throws Exception {
        List<Object> out = runCollectingFailures(body);
        List<T> results = new ArrayList<>();
        for (Object o : out) {
            if (o instanceof Throwable t) {
                if (t instanceof Exception e) {
                    throw e;
                }
                throw new AssertionError(t);
            }
            @SuppressWarnings("unchecked")
            T t = (T) o;
            results.add(t);
        }
        return results;
    }

    /** Runs {@code body} on every rank; element r is rank r's result or the Throwable it threw. */
    public List<Object> runCollectingFailures(RankBody<?> body) throws Exception {
        int n = world.size();
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<Object>> fs = new ArrayList<>();
            for (int r = 0; r < n; r++) {
                final int rank = r;
                fs.add(pool.submit(() -> {
                    try (Communicator c = Communicator.join(world, rank, settings)) {
                        return body.run(c);
                    } catch (Throwable t) {
                        return t;
                    }
                }));
            }
            List<Object> out = new ArrayList<>();
            for (Future<Object> f : fs) {
                try {
                    out.add(f.get(120, TimeUnit.SECONDS));
                } catch (ExecutionException e) {
                    out.add(e.getCause());
                }
            }
            return out;
        } finally {
            pool.shutdownNow();
        }
    }

    @Override
    public void close() {
        for (EmbeddedDriver d : drivers) {
            d.close();
        }
        for (Member m : world.members()) {
            EmbeddedDriver.deleteQuietly(java.nio.file.Path.of(m.driverDir())); // left behind by killed ranks
        }
    }
}
