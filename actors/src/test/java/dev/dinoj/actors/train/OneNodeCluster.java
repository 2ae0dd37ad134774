package dev.dinoj.actors.train;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.actors.data.DataShard;

/**
 * An {@link ActorTestKit} whose system is a one-node cluster (joined to itself, roles data and coordinator) with the
 * real data-shard entities serving Fashion-MNIST's test split: what a run driver or trainer worker talks to besides
 * the workers.
 */
final class OneNodeCluster {

    private OneNodeCluster() {}

    static ActorTestKit start(String name, String config) {
        ActorTestKit kit = ActorTestKit.create(
                name,
                ConfigFactory.parseString(config + "\n"
                                + "akka.remote.artery.canonical.port = 0\n"
                                + "akka.cluster.jmx.multi-mbeans-in-same-jvm = on\n"
                                + "akka.cluster.roles = [data, coordinator]\n"
                                + "dinoj.actors.data { dataset = \"fashion-mnist:test\", slice-size = 8192 }\n")
                        .withFallback(ConfigFactory.load()));
        Cluster cluster = Cluster.get(kit.system());
        cluster.manager().tell(Join.create(cluster.selfMember().address()));
        DataShard.init(
                kit.system(),
                DataShard.Settings.fromConfig(kit.system().settings().config()));
        return kit;
    }
}
