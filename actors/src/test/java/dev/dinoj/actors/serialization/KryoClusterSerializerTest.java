package dev.dinoj.actors.serialization;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.Behaviors;
import akka.cluster.ClusterEvent;
import akka.cluster.typed.Cluster;
import akka.cluster.typed.Join;
import akka.cluster.typed.Subscribe;
import akka.serialization.Serialization;
import akka.serialization.SerializationExtension;
import akka.serialization.Serializer;
import com.esotericsoftware.kryo.io.Output;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.actors.ClusterMessage;
import dev.dinoj.actors.curate.CurateSpec;
import dev.dinoj.actors.curate.CurationDriver;
import dev.dinoj.actors.curate.CurationView;
import dev.dinoj.actors.curate.CurationWorker;
import dev.dinoj.actors.data.DataShard;
import dev.dinoj.actors.train.Coordinator;
import dev.dinoj.actors.train.RunDriver;
import dev.dinoj.actors.train.RunStatus;
import dev.dinoj.actors.train.StepSchedule;
import dev.dinoj.actors.train.TrainerWorker;
import java.io.NotSerializableException;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class KryoClusterSerializerTest {

    /** A cluster message nobody registered. */
    record Unregistered(String text) implements ClusterMessage {}

    /** A registered-looking message class whose loading would be visible. */
    static final class Poison implements ClusterMessage {
        static {
            POISON_INITIALISED.set(true);
        }
    }

    /** Set by {@link Poison}'s static initialiser (kept outside it, so reading it does not initialise Poison). */
    static final java.util.concurrent.atomic.AtomicBoolean POISON_INITIALISED =
            new java.util.concurrent.atomic.AtomicBoolean();

    static Config config() {
        return ConfigFactory.parseString("akka.remote.artery.canonical.port = 0\n"
                        + "akka.cluster.jmx.multi-mbeans-in-same-jvm = on\n"
                        + "akka.cluster.split-brain-resolver.stable-after = 2s\n"
                        + "akka.coordinated-shutdown.run-by-jvm-shutdown-hook = off\n"
                        + "akka.coordinated-shutdown.terminate-actor-system = on")
                .withFallback(ConfigFactory.load());
    }

    static final ActorTestKit a = ActorTestKit.create("a", config());
    static final ActorTestKit b = ActorTestKit.create("a", config());

    @AfterAll
    static void shutdown() {
        b.shutdownTestKit();
        a.shutdownTestKit();
    }

    static Serialization serialization(ActorSystem<?> s) {
        return SerializationExtension.get(Adapter.toClassic(s));
    }

    @Test
    void shouldRoundTripRegisteredMessagesWithActorRefs() throws Exception {
        Serialization ser = serialization(a.system());
        TestProbe<RunDriver.Command> probe = a.createTestProbe();
        var msg = new TrainerWorker.FormWorld(
                3,
                "127.0.0.1:40100@/dev/shm/x",
                0x5EC2E7C0FFEEL,
                1,
                "dinoj {}",
                "",
                "curated:s3://bkt/c",
                60000,
                4096,
                probe.ref());
        assertFalse(msg.toString().contains(Long.toString(msg.secret())), "the world's secret is not logged");
        assertFalse(msg.toString().contains(Long.toHexString(msg.secret())), msg.toString());
        Serializer s = ser.findSerializerFor(msg);
        assertInstanceOf(KryoClusterSerializer.class, s);
        byte[] bytes = ser.serialize(msg).get();
        Object back =
                ser.deserialize(bytes, s.identifier(), msg.getClass().getName()).get();
        assertEquals(msg, back);

        var samples = new DataShard.Samples(
                2,
                new int[] {5, 9},
                new byte[] {0, 1},
                new int[] {0, 1},
                new int[] {0, 1},
                new int[] {40, 3},
                7,
                new byte[36],
                new String[] {"pool/a.png", "pool/b.png"},
                new int[] {4},
                "");
        DataShard.Samples sb = (DataShard.Samples)
                ser.deserialize(ser.serialize(samples).get(), s.identifier(), DataShard.Samples.class.getName())
                        .get();
        assertArrayEquals(samples.indices(), sb.indices());
        assertArrayEquals(samples.keys(), sb.keys());
        assertArrayEquals(samples.skipped(), sb.skipped());
        var stepDone = new RunDriver.StepDone(
                1,
                4,
                0,
                2.5,
                new String[] {"dino"},
                new double[] {2.5},
                new long[] {8, 9},
                new long[] {5, 9},
                new String[] {"pool/a.png", "pool/b.png"},
                new long[] {4},
                0.1);
        RunDriver.StepDone db = (RunDriver.StepDone)
                ser.deserialize(ser.serialize(stepDone).get(), s.identifier(), RunDriver.StepDone.class.getName())
                        .get();
        assertArrayEquals(stepDone.skipped(), db.skipped());
        assertArrayEquals(stepDone.keys(), db.keys());
        var run = new TrainerWorker.RunStep(1, 7, new StepSchedule(1e-3, 0.04, 0.992, 0.07, 0, true));
        assertEquals(
                run,
                ser.deserialize(
                                ser.serialize(run).get(),
                                s.identifier(),
                                run.getClass().getName())
                        .get());

        TestProbe<CurationDriver.Command> driver = a.createTestProbe();
        var ingest = new CurationWorker.IngestPartition(
                new CurateSpec(
                        "s3://bkt/pool",
                        "",
                        "s3://bkt/out",
                        0,
                        "pixels:28",
                        "same",
                        4,
                        new String[] {"fashion-mnist:test", "curated:s3://bkt/eval"},
                        0.97f),
                2,
                4,
                "/shared/run",
                driver.ref());
        assertEquals(
                ingest,
                ser.deserialize(
                                ser.serialize(ingest).get(),
                                s.identifier(),
                                ingest.getClass().getName())
                        .get());
        var view = new CurationView(
                "ingesting",
                "s3://bkt/pool",
                "curated:s3://bkt/out",
                5,
                9,
                1,
                4,
                new String[] {"", "n1", "", ""},
                new String[] {"n2", "", "", ""},
                2,
                "",
                1.5);
        CurationView vb = (CurationView) ser.deserialize(
                        ser.serialize(view).get(),
                        s.identifier(),
                        view.getClass().getName())
                .get();
        assertArrayEquals(view.partitionNodes(), vb.partitionNodes());
        assertEquals(view.objectsTotal(), vb.objectsTotal());
        var status = new RunStatus(
                "stepping",
                3,
                10,
                2,
                2,
                "/runs/a/checkpoints/step-00000002",
                12,
                new String[] {"dino"},
                new double[] {1.5},
                new double[] {2, 1.5},
                new RunStatus.WorkerView[] {new RunStatus.WorkerView(0, "n1", "127.0.0.1:40100")},
                "",
                0,
                1,
                CurationView.none(),
                "fmnist-pico",
                "/runs/a",
                new RunStatus.QueuedRun[] {new RunStatus.QueuedRun("fmnist-tiny", "/runs/b", 0, true)});
        RunStatus sb2 = (RunStatus) ser.deserialize(
                        ser.serialize(status).get(),
                        s.identifier(),
                        status.getClass().getName())
                .get();
        assertEquals(status.queue()[0], sb2.queue()[0]);
        assertEquals("/runs/a", sb2.dir());
        assertEquals(1, sb2.imagesSkipped());
        var cancel = new Coordinator.Cancel(
                "/runs/b", a.<Coordinator.Accepted>createTestProbe().ref());
        assertEquals(
                cancel,
                ser.deserialize(
                                ser.serialize(cancel).get(),
                                s.identifier(),
                                cancel.getClass().getName())
                        .get());
        var done = new CurationDriver.PartitionDone(3, "akka://dinoj@127.0.0.1:2552", 40, false, 1.2);
        assertEquals(
                done,
                ser.deserialize(
                                ser.serialize(done).get(),
                                s.identifier(),
                                done.getClass().getName())
                        .get());
    }

    @Test
    void shouldRefuseToSerializeAnUnregisteredClass() {
        Serialization ser = serialization(a.system());
        Unregistered msg = new Unregistered("hello");
        assertInstanceOf(KryoClusterSerializer.class, ser.findSerializerFor(msg));
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> ser.serialize(msg).get());
        assertTrue(e.getMessage().contains("not registered"), e.getMessage());
        // an unregistered class nested in a registered message is refused by Kryo's registration check as well
        var nested = new Coordinator.Accepted(true, "ok");
        assertTrue(ser.serialize(nested).isSuccess());
    }

    @Test
    void shouldRefuseBytesNamingAnUnregisteredClassWithoutLoadingIt() {
        KryoClusterSerializer s =
                (KryoClusterSerializer) serialization(a.system()).findSerializerFor(new Coordinator.Accepted(true, ""));
        String poison = KryoClusterSerializerTest.class.getName() + "$Poison";
        NotSerializableException e =
                assertThrows(NotSerializableException.class, () -> s.fromBinary(new byte[] {1, 0}, poison));
        assertTrue(e.getMessage().contains("unregistered class " + poison), e.getMessage());
        assertFalse(POISON_INITIALISED.get(), "the refused class must never be loaded or initialised");
    }

    /** Bytes of a varint length claiming {@code length} elements (Kryo's length + 1 encoding). */
    static byte[] claiming(int length) {
        Output out = new Output(16);
        out.writeVarInt(length + 1, true);
        return out.toBytes();
    }

    @Test
    void shouldDropForgedLengthsBeforeAllocatingAnything() throws Exception {
        KryoClusterSerializer s =
                (KryoClusterSerializer) serialization(a.system()).findSerializerFor(new Coordinator.Accepted(true, ""));
        // five bytes that claim two billion elements: refused as unreadable, not an OutOfMemoryError
        for (Class<?> c : new Class<?>[] {int[].class, double[].class, long[].class, byte[].class, String[].class}) {
            NotSerializableException e = assertThrows(
                    NotSerializableException.class, () -> s.fromBinary(claiming(Integer.MAX_VALUE - 1), c.getName()));
            assertTrue(e.getMessage().contains("bytes left: refused"), e.getMessage());
            assertTrue(e.getMessage().contains("dropped a " + c.getName()), e.getMessage());
        }
        Output string = new Output(16);
        // Kryo reads a record's components by name: message, then ok; a UTF-8 string claiming two billion characters
        string.writeVarIntFlag(true, Integer.MAX_VALUE, true);
        string.writeBoolean(true);
        NotSerializableException e = assertThrows(
                NotSerializableException.class,
                () -> s.fromBinary(string.toBytes(), Coordinator.Accepted.class.getName()));
        assertTrue(e.getMessage().contains("string of"), e.getMessage());
        // a truncated message is dropped the same way
        assertThrows(NotSerializableException.class, () -> s.fromBinary(new byte[] {1}, RunStatus.class.getName()));
        // honest messages of every length still read, nulls included
        Object back = s.fromBinary(
                s.toBinary(new Coordinator.Accepted(true, "é".repeat(300))), Coordinator.Accepted.class.getName());
        assertEquals(new Coordinator.Accepted(true, "é".repeat(300)), back);
        assertArrayEquals(new String[] {"a", null, ""}, (String[])
                s.fromBinary(s.toBinary(new String[] {"a", null, ""}), String[].class.getName()));
        assertArrayEquals(new int[0], (int[]) s.fromBinary(s.toBinary(new int[0]), int[].class.getName()));
    }

    @Test
    void shouldDropAnUnregisteredMessageBetweenTwoNodesAndDeliverRegisteredOnes() {
        Cluster ca = Cluster.get(a.system());
        Cluster cb = Cluster.get(b.system());
        ca.manager().tell(Join.create(ca.selfMember().address()));
        cb.manager().tell(Join.create(ca.selfMember().address()));
        TestProbe<ClusterEvent.MemberUp> up = a.createTestProbe();
        ca.subscriptions().tell(Subscribe.create(up.ref(), ClusterEvent.MemberUp.class));
        up.receiveMessage(Duration.ofSeconds(30));
        up.receiveMessage(Duration.ofSeconds(30));

        TestProbe<Object> inbox = b.createTestProbe();
        ActorRef<Object> receiver = b.spawn(
                Behaviors.receiveMessage(m -> {
                    inbox.ref().tell(m);
                    return Behaviors.same();
                }),
                "receiver");
        // the ref as system a sees it (remote)
        String path = akka.actor.typed.ActorRefResolver.get(b.system()).toSerializationFormat(receiver);
        ActorRef<Object> remote =
                akka.actor.typed.ActorRefResolver.get(a.system()).resolveActorRef(path);

        remote.tell(new Unregistered("must not arrive"));
        remote.tell(new Coordinator.Accepted(true, "registered"));
        assertEquals(new Coordinator.Accepted(true, "registered"), inbox.receiveMessage(Duration.ofSeconds(20)));
        inbox.expectNoMessage(Duration.ofSeconds(1));
    }
}
