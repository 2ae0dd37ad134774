package dev.dinoj.actors.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.cluster.typed.Cluster;
import dev.dinoj.pipeline.image.SyntheticPhotos;
import dev.dinoj.testkit.CuratedSets;
import dev.dinoj.trainer.checkpoint.ShardedCheckpoints;
import dev.dinoj.trainer.collective.CollectiveSettings;
import dev.dinoj.trainer.collective.Member;
import dev.dinoj.trainer.config.TrainSettings;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real trainer worker (its engine, embedded Aeron driver and the pico model) asked by a probe playing the run
 * driver, over the real data shards of a one-node cluster: it describes itself, refuses a world it is not in, joins a
 * world of one, trains a step on the samples its rank is given, checkpoints, and resumes from the checkpoint.
 */
@Timeout(300)
class TrainerWorkerTest {

    static final Duration T = Duration.ofSeconds(120);
    static ActorTestKit kit;
    static Member member;
    static ActorRef<TrainerWorker.Command> worker;
    static WorkerEngine engine;
    static final TrainSettings SETTINGS =
            TrainSettings.load("fmnist-pico", List.of("train.batch-size=2", "data.loader-threads=1"));

    @BeforeAll
    static void start() throws Exception {
        kit = OneNodeCluster.start("TrainerWorkerTest", "");
        int port;
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        member = new Member("127.0.0.1", port, Member.defaultDriverDir("127.0.0.1", port));
        CollectiveSettings cs = CollectiveSettings.defaults()
                .withTimeout(Duration.ofSeconds(10))
                .withConnectTimeout(Duration.ofSeconds(30));
        worker = kit.spawn(
                TrainerWorker.create(
                        () -> {
                            engine = new WorkerEngine(member, cs);
                            return engine;
                        },
                        Duration.ofSeconds(20)),
                "trainer-worker");
    }

    @AfterAll
    static void shutdown() {
        kit.shutdownTestKit();
    }

    @Test
    void shouldDescribeItselfAndRefuseAWorldItIsNotIn() {
        TestProbe<RunDriver.Command> driver = kit.createTestProbe();
        worker.tell(new TrainerWorker.Describe(driver.ref()));
        RunDriver.WorkerHello hello = driver.expectMessageClass(RunDriver.WorkerHello.class, T);
        assertEquals(worker, hello.worker());
        assertEquals(member.toString(), hello.aeron());
        assertEquals(Cluster.get(kit.system()).selfMember().address().toString(), hello.node());

        worker.tell(new TrainerWorker.FormWorld(
                9,
                "127.0.0.1:1@/tmp/dinoj-not-this-worker",
                1L,
                0,
                SETTINGS.render(),
                "",
                "",
                10000,
                8192,
                driver.ref()));
        RunDriver.WorldFailed failed = driver.expectMessageClass(RunDriver.WorldFailed.class, T);
        assertEquals(9, failed.generation());
        assertTrue(failed.error().contains("is not this worker"), failed.error());
    }

    @Test
    void shouldStepCheckpointAndResumeInAWorldOfOne(@TempDir Path run) {
        TestProbe<RunDriver.Command> driver = kit.createTestProbe();
        worker.tell(new TrainerWorker.FormWorld(
                1, member.toString(), 0x5EC2E7L, 0, SETTINGS.render(), "", "", 10000, 8192, driver.ref()));
        assertEquals(new RunDriver.WorldJoined(1, 0, 0), driver.expectMessageClass(RunDriver.WorldJoined.class, T));
        assertEquals(0x5EC2E7L, engine.world().secret(), "the world joined has the coordinator's secret");

        worker.tell(new TrainerWorker.RunStep(
                7, 0, StepSchedule.of(SETTINGS.schedules().at(0), false)));
        worker.tell(new TrainerWorker.RunStep(
                1, 0, StepSchedule.of(SETTINGS.schedules().at(0), false)));
        RunDriver.StepDone done = driver.expectMessageClass(RunDriver.StepDone.class, T);
        assertEquals(1, done.generation(), "a step of another generation is not run");
        assertEquals(0, done.step());
        assertTrue(Double.isFinite(done.totalLoss()) && done.totalLoss() > 0, "loss " + done.totalLoss());
        long[][] plan = WorkerEngine.plan(10000, SETTINGS.seed(), 2, 1, 0, 0);
        assertArrayEquals(plan[0], done.positions());
        assertArrayEquals(plan[1], done.indices(), "the samples of the plan, fetched from the data shards");

        worker.tell(new TrainerWorker.SaveCheckpoint(1, 1, run.toString()));
        RunDriver.CheckpointSaved saved = driver.expectMessageClass(RunDriver.CheckpointSaved.class, T);
        Path dir = Path.of(saved.dir());
        ShardedCheckpoints.verify(dir);
        assertEquals(1, ShardedCheckpoints.manifest(dir).get("step").asLong());

        worker.tell(new TrainerWorker.LeaveWorld(1));
        worker.tell(new TrainerWorker.FormWorld(
                2, member.toString(), 0x7E57L, 0, SETTINGS.render(), dir.toString(), "", 10000, 8192, driver.ref()));
        assertEquals(
                new RunDriver.WorldJoined(2, 0, 1),
                driver.expectMessageClass(RunDriver.WorldJoined.class, T),
                "resumed from the checkpoint");
        worker.tell(new TrainerWorker.RunStep(
                2, 1, StepSchedule.of(SETTINGS.schedules().at(1), false)));
        assertInstanceOf(RunDriver.StepDone.class, driver.receiveMessage(T));
        worker.tell(new TrainerWorker.LeaveWorld(2));
        driver.expectNoMessage(Duration.ofMillis(200));
    }

    /**
     * Issue #14: a step over a curated set holding a 9000 x 9000 PNG. The data shard sends the next image in its
     * place; the step reports the key of the image trained on and the index of the one skipped, for the run's count.
     */
    @Test
    void shouldReportTheImagesTheDataShardsSkippedOverThePixelGuard(@TempDir Path dir) {
        Path curated = CuratedSets.write(
                dir.resolve("curated"),
                new String[] {"photos/a/photo.png", "photos/b/bomb.png", "photos/c/small.png"},
                new byte[][] {
                    SyntheticPhotos.encode(SyntheticPhotos.scene(80, 60, 0, 5), "png"),
                    SyntheticPhotos.blankPng(9000, 9000),
                    SyntheticPhotos.encode(SyntheticPhotos.scene(64, 48, 2, 5), "png")
                });
        TrainSettings whole = TrainSettings.load(
                "fmnist-pico",
                List.of("train.batch-size=3", "data.loader-threads=1", "data.dataset=\"curated:" + curated + "\""));
        TestProbe<RunDriver.Command> driver = kit.createTestProbe();
        worker.tell(new TrainerWorker.FormWorld(
                3, member.toString(), 0x5C1FL, 0, whole.render(), "", "curated:" + curated, 3, 8192, driver.ref()));
        assertEquals(new RunDriver.WorldJoined(3, 0, 0), driver.expectMessageClass(RunDriver.WorldJoined.class, T));
        worker.tell(new TrainerWorker.RunStep(
                3, 0, StepSchedule.of(whole.schedules().at(0), false)));
        RunDriver.StepDone done = driver.expectMessageClass(RunDriver.StepDone.class, T);
        assertTrue(Double.isFinite(done.totalLoss()), "loss " + done.totalLoss());
        long[] sorted = done.indices().clone();
        java.util.Arrays.sort(sorted);
        assertArrayEquals(new long[] {0, 1, 2}, sorted, "the whole set in the step");
        assertArrayEquals(new long[] {1}, done.skipped(), "the 9000 x 9000 PNG was skipped");
        for (int i = 0; i < done.indices().length; i++) {
            if (done.indices()[i] == 1) {
                assertEquals("photos/c/small.png", done.keys()[i], "its place: the next image's key");
            }
        }
        worker.tell(new TrainerWorker.LeaveWorld(3));
        driver.expectNoMessage(Duration.ofMillis(200));
    }
}
