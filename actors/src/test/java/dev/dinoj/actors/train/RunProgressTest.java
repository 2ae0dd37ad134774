package dev.dinoj.actors.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.TestProbe;
import dev.dinoj.trainer.config.TrainSettings;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The run driver's plain rules: when a checkpoint is due, how many workers a world needs, which world forms. */
class RunProgressTest {

    static final ActorTestKit kit = ActorTestKit.create();

    @AfterAll
    static void shutdown() {
        kit.shutdownTestKit();
    }

    static final TrainSettings PICO = TrainSettings.load("fmnist-pico", List.of());

    static RunDriver.StepDone done(long step) {
        return new RunDriver.StepDone(
                1, step, 0, 1, new String[0], new double[0], new long[0], new long[0], new String[0], new long[0], 0);
    }

    @Test
    void shouldCheckpointAtTheCadenceOnRequestAndAtTheEnd() {
        RunProgress p = new RunProgress(PICO, 5, 2, 4, 0);
        p.restore(new RunStore.Restored(-1, "", 0, 0, "", "", false, List.of()));
        List<Long> due = new java.util.ArrayList<>();
        while (!p.allStepsDone() || p.checkpointDue()) {
            if (p.checkpointDue()) {
                due.add(p.step());
                p.checkpointStarted();
                p.committed(p.step(), "ck-" + p.step());
                continue;
            }
            if (p.step() == 2) {
                p.requestCheckpoint(); // asked while step 2 is in flight
            }
            p.stepDone(done(p.step()));
        }
        assertEquals(List.of(2L, 3L, 4L, 5L), due, "the cadence, the request after step 2, the end");
        assertEquals(20, p.state("finished").samplerPosition());
    }

    @Test
    void shouldFitTheScheduleToTheTimeLimitOnTheCoordinatorsClock() {
        // 1 minute, steps of 0.1 s: calibration of 10 s (after 3 untimed steps), then 10 epochs fitted to the rest;
        // refitted from the rate of the next 12 s (20 % of the budget)
        TrainSettings s = TrainSettings.load(
                "fmnist-pico",
                List.of(
                        "train.max-minutes=1",
                        "train.fit-schedule-to-time=true",
                        "optim.epochs=10",
                        "train.epoch-length=100000"));
        RunProgress p = new RunProgress(s, s.totalSteps(), 1_000_000, 4, 0);
        p.restore(new RunStore.Restored(-1, "", 0, 0, "", "", false, List.of()));
        long tenth = 100_000_000L;
        long now = 0;
        p.startClock(true, now);
        p.startClock(true, now + 7 * tenth); // once: a later world does not restart the clock
        TrainSettings fitted = null;
        List<Long> fitSteps = new ArrayList<>();
        double peak = 0;
        while (!p.allStepsDone()) {
            peak = Math.max(peak, p.schedule().values().lr());
            p.stepDone(done(p.step()));
            now += tenth;
            assertFalse(p.timeUp(now), "the schedule ends before the deadline, at step " + p.step());
            TrainSettings f = p.refitAfterStep(now);
            if (f != null) {
                fitted = f;
                fitSteps.add(p.step());
            }
        }
        assertEquals(List.of(103L, 223L), fitSteps, "3 untimed + 100 timed steps (10 s), then 120 more (12 s)");
        // 103 done + 0.97 × 49.7 s × 10 steps/s = 585 → epoch length 58, 580 steps; the same rate refits the same
        assertEquals(58, fitted.loop().epochLength());
        assertEquals(580, p.totalSteps());
        assertEquals(580, p.step());
        assertTrue(p.schedule().values().lr() < 0.05 * peak, "annealed at the end");
        assertTrue(p.timeUp(60 * 10 * tenth + 1));
    }

    @Test
    void shouldNotFitWithoutTheSetting() {
        TrainSettings s = TrainSettings.load("fmnist-pico", List.of("train.max-minutes=1"));
        RunProgress p = new RunProgress(s, s.totalSteps(), 5, 4, 0);
        p.restore(new RunStore.Restored(-1, "", 0, 0, "", "", false, List.of()));
        p.startClock(true, 0);
        for (int i = 1; i <= 50; i++) {
            p.stepDone(done(p.step()));
            assertNull(p.refitAfterStep(i * 1_000_000_000L));
        }
        assertEquals(s.totalSteps(), p.totalSteps());
        assertFalse(p.timeUp(60_000_000_000L));
        assertTrue(p.timeUp(60_000_000_001L));
    }

    @Test
    void shouldNeedMinWorkersForTheFirstWorldOnlyAndNeverReuseAGeneration() {
        RunProgress p = new RunProgress(PICO, 10, 5, 4, 7);
        p.restore(new RunStore.Restored(-1, "", 3, 0, "", "", false, List.of()));
        assertEquals(1, p.neededWorkers(3), "recorded generation 3 formed a world: any worker will do");
        assertEquals(8, p.newGeneration(), "after the floor (7) and the recorded generation (3)");
        RunProgress fresh = new RunProgress(PICO, 10, 5, 4, 7);
        fresh.restore(new RunStore.Restored(-1, "", 0, 0, "", "", false, List.of()));
        assertEquals(3, fresh.neededWorkers(3));
        assertEquals(8, fresh.newGeneration(), "after the coordinator's floor");
        assertEquals(1, fresh.neededWorkers(3));
        RunProgress resumed = new RunProgress(PICO, 10, 5, 4, 0);
        resumed.restore(new RunStore.Restored(5, "ck-5", 9, 2, "", "", false, List.of()));
        assertEquals(1, resumed.neededWorkers(3));
        assertEquals(5, resumed.step());
        assertEquals(10, resumed.newGeneration());
    }

    @Test
    void shouldFormTheLargestWorldThatDividesTheBatchInNodeOrder() {
        WorkerRoster roster = new WorkerRoster();
        TestProbe<TrainerWorker.Command> a = kit.createTestProbe();
        TestProbe<TrainerWorker.Command> b = kit.createTestProbe();
        TestProbe<TrainerWorker.Command> c = kit.createTestProbe();
        assertNull(roster.list(Set.of(a.ref(), b.ref(), c.ref())));
        roster.probe();
        assertFalse(roster.hello(new RunDriver.WorkerHello(c.ref(), "h:3", "node-c")));
        assertFalse(roster.hello(new RunDriver.WorkerHello(a.ref(), "h:1", "node-a")));
        assertTrue(roster.hello(new RunDriver.WorkerHello(b.ref(), "h:2", "node-b")), "all listed answered");
        List<RunDriver.WorkerHello> world = roster.choose(4, 0);
        assertEquals(
                List.of("node-a", "node-b"),
                world.stream().map(RunDriver.WorkerHello::node).toList(),
                "3 do not divide 4: the first 2");
        roster.form(world);
        assertEquals("h:1,h:2", roster.worldSpec());
        assertNull(roster.list(Set.of(a.ref(), b.ref())), "c is not in the world");
        assertSame(world.get(0), roster.list(Set.of(b.ref())), "a is");
        assertTrue(roster.choose(3, 0).size() == 3, "3 divide 3");
        assertEquals(2, roster.choose(12, 2).size(), "max-workers 2");
        assertEquals(1, roster.choose(3, 2).size(), "2 do not divide 3");
        roster.list(Set.of(a.ref(), b.ref(), c.ref()));
        assertFalse(roster.canGrow(4, 0), "a world of 2 of 3 listed: 3 do not divide 4");
        assertTrue(roster.canGrow(6, 0), "3 divide 6");
        assertFalse(roster.canGrow(6, 2), "max-workers 2");
    }
}
