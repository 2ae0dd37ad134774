package dev.dinoj.actors.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.cluster.ClusterEvent;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import akka.cluster.typed.Subscribe;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.testkit.KeyStores;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Artery over TLS on loopback (the settings docs/CLUSTER.md documents): two nodes with {@code transport = tls-tcp}
 * and a key store made here with keytool ({@link KeyStores}) form a cluster; a node with another certificate cannot
 * join it.
 */
@Timeout(180)
class ArteryTlsTest {

    static Config tls(Path keyStore) {
        return ConfigFactory.parseString(String.join(
                        "\n",
                        "akka.remote.artery.transport = tls-tcp",
                        "akka.remote.artery.canonical.port = 0",
                        "akka.remote.artery.ssl.config-ssl-engine {",
                        "  key-store = \"" + keyStore + "\", trust-store = \"" + keyStore + "\"",
                        "  key-store-password = " + KeyStores.PASSWORD + ", key-password = " + KeyStores.PASSWORD
                                + ", trust-store-password = " + KeyStores.PASSWORD,
                        "  protocol = TLSv1.3, enabled-algorithms = [TLS_AES_128_GCM_SHA256]",
                        "}",
                        "akka.cluster.jmx.multi-mbeans-in-same-jvm = on",
                        "akka.coordinated-shutdown.run-by-jvm-shutdown-hook = off"))
                .withFallback(ConfigFactory.load());
    }

    @Test
    void shouldFormAClusterOverTlsAndKeepOutANodeWithAnotherCertificate(@TempDir Path dir) throws Exception {
        Path ks = KeyStores.selfSigned(dir, "cluster");
        Path other = KeyStores.selfSigned(dir, "other");
        ActorTestKit a = ActorTestKit.create("dinoj", tls(ks));
        ActorTestKit b = ActorTestKit.create("dinoj", tls(ks));
        ActorTestKit c = ActorTestKit.create("dinoj", tls(other));
        try {
            assertEquals("tls-tcp", a.system().settings().config().getString("akka.remote.artery.transport"));
            Cluster ca = Cluster.get(a.system());
            TestProbe<ClusterEvent.MemberUp> up = a.createTestProbe();
            ca.subscriptions().tell(Subscribe.create(up.ref(), ClusterEvent.MemberUp.class));
            ca.manager().tell(Join.create(ca.selfMember().address()));
            Cluster.get(b.system()).manager().tell(Join.create(ca.selfMember().address()));
            up.receiveMessage(Duration.ofSeconds(30));
            up.receiveMessage(Duration.ofSeconds(30));

            Cluster.get(c.system()).manager().tell(Join.create(ca.selfMember().address()));
            up.expectNoMessage(Duration.ofSeconds(8));
            assertEquals(2, List.copyOf(toList(ca.state().getMembers())).size());
        } finally {
            c.shutdownTestKit();
            b.shutdownTestKit();
            a.shutdownTestKit();
        }
    }

    private static <T> List<T> toList(Iterable<T> it) {
        java.util.ArrayList<T> l = new java.util.ArrayList<>();
        it.forEach(l::add);
        return l;
    }
}
