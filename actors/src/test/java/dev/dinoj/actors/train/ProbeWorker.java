package dev.dinoj.actors.train;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.receptionist.Receptionist;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.trainer.config.TrainSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.LongFunction;

/**
 * A trainer worker played by a test probe: registered with the receptionist like a {@link TrainerWorker}, it answers
 * the run driver as a worker would, with the samples {@link WorkerEngine#plan} assigns to its rank.
 */
final class ProbeWorker {

    static final Duration T = Duration.ofSeconds(30);

    final TestProbe<TrainerWorker.Command> probe;
    final String node;
    private final int port;
    private TrainerWorker.FormWorld world;
    /** The dataset indices this worker's data shards skip over the pixel guard at each step (none by default). */
    LongFunction<long[]> skipping = step -> new long[0];

    ProbeWorker(ActorTestKit kit, String node, int port) {
        this.probe = kit.createTestProbe(node);
        this.node = node;
        this.port = port;
        kit.system().receptionist().tell(Receptionist.register(TrainerWorker.KEY, probe.ref()));
    }

    /** Answers the driver's probe. */
    void describe() {
        TrainerWorker.Describe d = probe.expectMessageClass(TrainerWorker.Describe.class, T);
        d.replyTo().tell(new RunDriver.WorkerHello(probe.ref(), "127.0.0.1:" + port, node));
    }

    /** Takes the world formation (not yet answered). */
    TrainerWorker.FormWorld formWorld() {
        world = probe.expectMessageClass(TrainerWorker.FormWorld.class, T);
        return world;
    }

    /** Joins the world formed, having loaded {@code step}. */
    void join(long step) {
        world.driver().tell(new RunDriver.WorldJoined(world.generation(), world.rank(), step));
    }

    /** Takes a step (not yet answered). */
    TrainerWorker.RunStep runStep() {
        return probe.expectMessageClass(TrainerWorker.RunStep.class, T);
    }

    /** Answers step {@code s} with its rank's samples. */
    void done(TrainerWorker.RunStep s) {
        TrainSettings settings = TrainSettings.fromConfig(ConfigFactory.parseString(world.config()));
        int worldSize = world.worldSpec().split(",").length;
        long[][] plan = WorkerEngine.plan(
                world.datasetSize(), settings.seed(), settings.batchSize(), worldSize, world.rank(), s.step());
        world.driver()
                .tell(new RunDriver.StepDone(
                        s.generation(),
                        s.step(),
                        world.rank(),
                        1.0 / (1 + s.step()),
                        new String[] {"dino"},
                        new double[] {1.0 / (1 + s.step())},
                        plan[0],
                        plan[1],
                        keys(plan[0].length),
                        skipping.apply(s.step()),
                        0.01));
    }

    private static String[] keys(int n) {
        String[] k = new String[n];
        java.util.Arrays.fill(k, "");
        return k;
    }

    /** Takes and answers the next step; returns its number. */
    long step() {
        TrainerWorker.RunStep s = runStep();
        done(s);
        return s.step();
    }

    /** Takes a checkpoint request (not yet answered). */
    TrainerWorker.SaveCheckpoint saveCheckpoint() {
        return probe.expectMessageClass(TrainerWorker.SaveCheckpoint.class, T);
    }

    /** Acknowledges its shard of the checkpoint in {@code dir}. */
    void saved(TrainerWorker.SaveCheckpoint c, Path dir) {
        world.driver().tell(new RunDriver.CheckpointSaved(c.generation(), c.step(), world.rank(), dir.toString()));
    }

    /** Expects to be told to leave world {@code generation}. */
    void leaves(int generation) {
        assertEquals(
                generation,
                probe.expectMessageClass(TrainerWorker.LeaveWorld.class, T).generation());
    }

    TrainerWorker.FormWorld world() {
        return world;
    }
}
