package dev.dinoj.actors.node;

import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.Behavior;
import akka.actor.typed.SupervisorStrategy;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.ClusterSingleton;
import akka.cluster.typed.ClusterSingletonSettings;
import akka.cluster.typed.SingletonActor;
import com.typesafe.config.Config;
import dev.dinoj.actors.curate.CurationWorker;
import dev.dinoj.actors.data.DataShard;
import dev.dinoj.actors.train.Coordinator;
import dev.dinoj.actors.train.RunSpec;
import dev.dinoj.actors.train.TrainerWorker;
import dev.dinoj.actors.train.WorkerEngine;
import dev.dinoj.trainer.collective.CollectiveSettings;
import dev.dinoj.trainer.collective.Member;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The actors of a node, by role: the data-shard region (role {@code data}; a proxy elsewhere), the coordinator
 * singleton (role {@code coordinator}; a proxy elsewhere), one trainer worker (role {@code worker}) and one curation
 * worker (role {@code curation}).
 */
public final class ClusterRuntime {

    /** What a started node offers to its management routes. */
    public record Handles(ActorRef<Coordinator.Command> coordinator) {}

    private static final Map<ActorSystem<?>, Handles> HANDLES = new ConcurrentHashMap<>();

    private ClusterRuntime() {}

    /** The guardian behaviour of a dinoj node's actor system. */
    public static Behavior<Void> guardian() {
        return Behaviors.setup(ctx -> {
            ActorSystem<?> system = ctx.getSystem();
            Config config = system.settings().config();
            DataShard.init(system, DataShard.Settings.fromConfig(config));
            RunSpec spec = RunSpec.fromConfig(config);
            ActorRef<Coordinator.Command> coordinator = ClusterSingleton.get(system)
                    .init(SingletonActor.of(
                                    Behaviors.supervise(Coordinator.create(spec))
                                            .onFailure(SupervisorStrategy.restartWithBackoff(
                                                    Duration.ofSeconds(1), Duration.ofSeconds(30), 0.2)),
                                    "coordinator")
                            .withSettings(
                                    ClusterSingletonSettings.create(system).withRole("coordinator")));
            HANDLES.put(system, new Handles(coordinator));
            if (Cluster.get(system).selfMember().hasRole("curation")) {
                ctx.spawn(CurationWorker.create(), "curation-worker");
            }
            if (Cluster.get(system).selfMember().hasRole("worker")) {
                Config w = config.getConfig("dinoj.actors.worker");
                Duration fetch = config.getDuration("dinoj.actors.data.fetch-timeout");
                ctx.spawn(
                        TrainerWorker.create(() -> new WorkerEngine(member(w), collectiveSettings(w)), fetch),
                        "trainer-worker");
            }
            return Behaviors.empty();
        });
    }

    /** The handles of a node started with {@link #guardian()}, or null before it started. */
    public static Handles handles(ActorSystem<?> system) {
        return HANDLES.get(system);
    }

    static Member member(Config w) {
        String host = w.getString("aeron-host");
        int port = w.getInt("aeron-port");
        if (port == 0) {
            try (DatagramSocket s = new DatagramSocket(0, InetAddress.getByName(host))) {
                port = s.getLocalPort();
            } catch (IOException e) {
                throw new UncheckedIOException(
                        "dinoj.actors.worker.aeron-host = " + host + ": cannot bind a UDP port (" + e.getMessage()
                                + ")",
                        e);
            }
        }
        return new Member(host, port, Member.defaultDriverDir(host, port));
    }

    static CollectiveSettings collectiveSettings(Config w) {
        return CollectiveSettings.defaults()
                .withTimeout(w.getDuration("collective-timeout"))
                .withConnectTimeout(w.getDuration("connect-timeout"))
                .withTermLengths((int) w.getBytes("ring-term-length").longValue(), (int)
                        w.getBytes("small-term-length").longValue());
    }
}
