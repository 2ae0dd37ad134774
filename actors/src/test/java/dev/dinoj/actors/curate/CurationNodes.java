package dev.dinoj.actors.curate;

import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Cluster nodes in one test JVM: actor systems named {@code dinoj} on free loopback ports (so every message between
 * them crosses Artery and the Kryo serializer), joined to the first, each running a {@link CurationWorker}. Closing
 * shuts every node down.
 */
final class CurationNodes implements AutoCloseable {
    private final List<ActorTestKit> kits = new ArrayList<>();

    /**
     * Starts {@code n} nodes with {@code settings} (HOCON over the test's {@code application.conf}; a free port and
     * several cluster MBeans in one JVM are added).
     */
    static CurationNodes start(int n, String settings) {
        CurationNodes nodes = new CurationNodes();
        try {
            for (int i = 0; i < n; i++) {
                nodes.kits.add(ActorTestKit.create(
                        "dinoj",
                        ConfigFactory.parseString("akka.remote.artery.canonical.port = 0\n"
                                        + "akka.cluster.jmx.multi-mbeans-in-same-jvm = on\n"
                                        + settings)
                                .withFallback(ConfigFactory.load())));
            }
            akka.actor.Address seed =
                    Cluster.get(nodes.first().system()).selfMember().address();
            for (ActorTestKit k : nodes.kits) {
                Cluster.get(k.system()).manager().tell(Join.create(seed));
                k.spawn(CurationWorker.create(), "curation-worker");
            }
            return nodes;
        } catch (RuntimeException e) {
            nodes.close();
            throw e;
        }
    }

    /** The first node (the seed). */
    ActorTestKit first() {
        return kits.get(0);
    }

    /**
     * Runs {@code spec} with a {@link CurationDriver} on the first node until it finishes, each progress report
     * awaited at most {@code step}; asserts that it finished without an error.
     */
    void curate(CurateSpec spec, Path run, Duration step) {
        TestProbe<CurationDriver.Progress> listener = first().createTestProbe();
        first().spawn(CurationDriver.create(spec, run, listener.ref()), "driver");
        CurationDriver.Progress last;
        do {
            last = listener.receiveMessage(step);
        } while (!last.finished() && last.error().isEmpty());
        assertTrue(last.error().isEmpty(), last.error());
    }

    @Override
    public void close() {
        for (ActorTestKit k : kits) {
            k.shutdownTestKit();
        }
    }
}
