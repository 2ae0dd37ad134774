package dev.dinoj.trainer.collective;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dinoj.trainer.collective.TestWorlds.Transport;
import dev.dinoj.trainer.collective.transport.ChunkHeader;
import dev.dinoj.trainer.collective.transport.Wire;
import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.agrona.CloseHelper;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue #17 item 9, the world's secret. An outsider who knows the protocol (a publication onto a rank's inbox stream,
 * chunks with the world's generation, the next collective numbers, a peer's rank as sender, the right kind and length)
 * but not the secret adds nothing to the collectives and fails none of them, and a flood of such chunks does not keep
 * a stalled collective from timing out. Ranks started by {@link LocalRanks} get the secret in their environment, not
 * on their command line.
 */
class RunSecretTest {

    static final CollectiveSettings SETTINGS = CommunicatorTest.SETTINGS;

    /** Someone outside the world with an Aeron publication onto a rank's inbox. */
    static final class Outsider implements AutoCloseable {
        private final EmbeddedDriver driver; // over UDP the outsider's own; over IPC it uses the world's
        private final Aeron aeron;
        private final ExclusivePublication publication;
        private final UnsafeBuffer chunk = new UnsafeBuffer(ByteBuffer.allocateDirect(ChunkHeader.LENGTH + 8 * 16));

        Outsider(World world, int target, Transport transport) {
            Member m = world.member(target);
            String channel;
            if (transport == Transport.IPC) {
                driver = null;
                channel = "aeron:ipc";
            } else {
                driver = EmbeddedDriver.launch("/dev/shm/dinoj-test-outsider-" + UUID.randomUUID(), SETTINGS);
                channel = "aeron:udp?endpoint=" + m.host() + ":" + m.port();
            }
            aeron = Aeron.connect(
                    new Aeron.Context().aeronDirectoryName(driver == null ? m.driverDir() : driver.directory()));
            publication = aeron.addExclusivePublication(channel, SETTINGS.streamIdBase() + target);
        }

        /**
         * Offers one chunk of a small all-reduce or barrier: {@code count} float64 elements of {@code value} at offset
         * 0, the whole vector; the Aeron result (negative: not taken).
         */
        long tryForge(int generation, int sequence, int sender, byte kind, int count, double value, long secret) {
            new ChunkHeader()
                    .wrap(chunk, 0)
                    .write(generation, sequence, 0L, 0, count, sender, kind, Wire.FLOAT64, 0, count, secret);
            for (int i = 0; i < count; i++) {
                chunk.putDouble(ChunkHeader.LENGTH + 8 * i, value);
            }
            return publication.offer(chunk, 0, ChunkHeader.LENGTH + 8 * count);
        }

        /** {@link #tryForge} until the rank's inbox takes it. */
        void forge(int generation, int sequence, int sender, byte kind, int count, double value, long secret)
                throws Exception {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (tryForge(generation, sequence, sender, kind, count, value, secret) < 0) {
                assertTrue(System.nanoTime() < deadline, "the rank's inbox did not take the forged chunk");
                Thread.sleep(1);
            }
        }

        @Override
        public void close() {
            CloseHelper.closeAll(publication, aeron, driver);
        }
    }

    /**
     * After a first barrier, an outsider puts forged chunks for the next four collectives onto both ranks' inboxes,
     * each claiming to be the other rank's small all-reduce vector of 10^6, before the ranks go on: a small all-reduce,
     * a ring all-reduce, a reduce-scatter and a double all-reduce are still exact, and every rank counts the four
     * chunks as foreign. (Without the secret check the first forged chunk was reduced as the peer's vector.)
     */
    @ParameterizedTest
    @EnumSource(Transport.class)
    @Timeout(120)
    void collectivesStayExactWhileAnOutsiderInjectsChunksWithoutTheSecret(Transport transport) throws Exception {
        int n = 2;
        int big = 50_001;
        try (TestWorlds w = new TestWorlds(n, transport, SETTINGS, 0, true);
                Outsider to0 = new Outsider(w.world(), 0, transport);
                Outsider to1 = new Outsider(w.world(), 1, transport)) {
            long forged = w.world().secret() ^ 0x5EEDL;
            CountDownLatch joined = new CountDownLatch(n);
            CountDownLatch injected = new CountDownLatch(1);
            Thread outsider = new Thread(() -> {
                try {
                    joined.await();
                    for (int seq = 2; seq <= 5; seq++) {
                        int count = seq == 2 ? 5 : 1; // #2 reduces 5 elements, #5 one
                        to0.forge(0, seq, 1, ChunkHeader.KIND_SMALL_ALL_REDUCE, count, 1e6, forged);
                        to1.forge(0, seq, 0, ChunkHeader.KIND_SMALL_ALL_REDUCE, count, 1e6, forged);
                    }
                    Thread.sleep(300); // over UDP: delivered before the ranks go on
                    injected.countDown();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            outsider.start();
            List<Long> foreign = w.run(c -> {
                int r = c.rank();
                c.barrier(); // #1: both inboxes are up
                joined.countDown();
                assertTrue(injected.await(60, TimeUnit.SECONDS), "the outsider did not inject");
                ByteBuffer s = CommunicatorTest.vector(5);
                for (int i = 0; i < 5; i++) {
                    s.putFloat(i * 4, CommunicatorTest.value(r, i));
                }
                c.allReduce(s, 5); // #2: all-to-all
                for (int i = 0; i < 5; i++) {
                    assertEquals(CommunicatorTest.value(0, i) + CommunicatorTest.value(1, i), s.getFloat(i * 4));
                }
                ByteBuffer v = CommunicatorTest.vector(big);
                for (int i = 0; i < big; i++) {
                    v.putFloat(i * 4, CommunicatorTest.value(r, i));
                }
                c.allReduce(v, big); // #3: ring
                for (int i = 0; i < big; i++) {
                    float want = CommunicatorTest.value(0, i) + CommunicatorTest.value(1, i);
                    if (v.getFloat(i * 4) != want) {
                        throw new AssertionError("rank " + r + " element " + i + ": " + v.getFloat(i * 4));
                    }
                }
                Partition p = Partition.even(big, n);
                c.reduceScatter(v, p, WireFormat.F32); // #4
                for (int i = p.offset(r); i < p.end(r); i++) {
                    assertEquals(2 * (CommunicatorTest.value(0, i) + CommunicatorTest.value(1, i)), v.getFloat(i * 4));
                }
                double[] d = {r + 1};
                c.allReduce(d, ReduceOp.SUM); // #5
                assertEquals(3.0, d[0]);
                c.barrier(); // #6
                return c.stats().foreignChunks();
            });
            outsider.join();
            assertEquals(List.of(4L, 4L), foreign);
        }
    }

    /**
     * Rank 1 never enters the barrier while an outsider floods rank 0's inbox with chunks without the secret: rank 0
     * drops them and still times out after the collective timeout, naming rank 1 (dropped chunks are no progress).
     */
    @Test
    @Timeout(90)
    void aFloodOfChunksWithoutTheSecretDoesNotHoldAStalledCollectiveOpen() throws Exception {
        CollectiveSettings settings = SETTINGS.withTimeout(Duration.ofSeconds(2));
        try (TestWorlds w = new TestWorlds(2, Transport.IPC, settings, 0, true);
                Outsider outsider = new Outsider(w.world(), 0, Transport.IPC)) {
            long forged = ~w.world().secret();
            AtomicBoolean stop = new AtomicBoolean();
            CountDownLatch done = new CountDownLatch(1);
            Thread flood = new Thread(() -> {
                while (!stop.get()) {
                    outsider.tryForge(0, 0, 1, ChunkHeader.KIND_BARRIER, 0, 0, forged);
                    Thread.yield();
                }
            });
            flood.start();
            List<Object> out;
            try {
                out = w.runCollectingFailures(c -> {
                    if (c.rank() == 1) {
                        assertTrue(done.await(60, TimeUnit.SECONDS), "rank 0 did not time out");
                        return null;
                    }
                    long t0 = System.nanoTime();
                    try {
                        c.barrier();
                        return "the barrier completed without rank 1";
                    } catch (CollectiveTimeoutException e) {
                        return new Object[] {
                            (System.nanoTime() - t0) / 1_000_000,
                            e.waitingFor(),
                            c.stats().foreignChunks()
                        };
                    } finally {
                        done.countDown();
                    }
                });
            } finally {
                stop.set(true);
                flood.join();
            }
            Object[] r0 = assertInstanceOf(Object[].class, out.get(0), String.valueOf(out.get(0)));
            long ms = (Long) r0[0];
            assertTrue(ms >= 2000 && ms < 8000, "timed out after " + ms + " ms");
            assertEquals(List.of(1), r0[1]);
            assertTrue((Long) r0[2] > 0, "foreign chunks dropped: " + r0[2]);
        }
    }

    @Test
    void worldsHaveFreshSecretsThatTheirSpecAndNameDoNotShow() {
        World a = World.localIpc(2, "/dev/shm/unused", 4000, 0);
        World b = World.localIpc(2, "/dev/shm/unused", 4000, 0);
        assertNotEquals(a.secret(), b.secret());
        assertNotEquals(a.secret(), a.nextGeneration().secret());
        String hex = Long.toHexString(a.secret());
        assertFalse(a.spec().contains(hex) || a.toString().contains(hex), a.toString());
        assertEquals(a.secret(), World.parse(a.spec(), 0, a.secret()).secret());
        assertEquals(hex, a.secretEnvironment().get(World.SECRET_ENV));
        assumeTrue(System.getenv(World.SECRET_ENV) == null);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> World.fromEnvironment(a.spec(), 0));
        assertTrue(e.getMessage().contains(World.SECRET_ENV), e.getMessage());
    }

    /** A rank JVM that prints the secret it got and its whole command line (as ps shows it to every user). */
    public static final class Probe {
        public static void main(String[] args) throws IOException {
            System.out.println("SECRET "
                    + Long.toHexString(World.fromEnvironment(args[0], 0).secret()));
            byte[] command = Files.readAllBytes(Path.of("/proc/self/cmdline"));
            System.out.println("COMMAND " + new String(command, StandardCharsets.UTF_8).replace('\0', ' '));
        }
    }

    @Test
    @Timeout(120)
    void localRanksHandTheSecretThroughTheEnvironmentNotTheCommandLine(@TempDir Path tmp) throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/self/cmdline")), "Linux /proc");
        try (LocalRanks ranks = LocalRanks.form(1, "ipc", 0, SETTINGS)) {
            ranks.start(
                    "64m",
                    List.of(),
                    Probe.class.getName(),
                    r -> List.of(ranks.world().spec()),
                    tmp);
            List<String> lines = new ArrayList<>();
            ranks.await(60_000, lines::add);
            String hex = Long.toHexString(ranks.world().secret());
            assertTrue(lines.contains("SECRET " + hex), lines.toString());
            String command = lines.stream()
                    .filter(l -> l.startsWith("COMMAND "))
                    .findFirst()
                    .orElseThrow();
            assertTrue(command.contains(Probe.class.getName()), command);
            assertFalse(command.contains(hex), command);
            assertFalse(command.contains(Long.toString(ranks.world().secret())), command);
        }
    }
}
