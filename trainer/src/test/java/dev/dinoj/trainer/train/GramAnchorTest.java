package dev.dinoj.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dev.dinoj.trainer.checkpoint.Checkpoints;
import dev.dinoj.trainer.config.ConfigError;
import dev.dinoj.trainer.config.GramSettings;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.io.NpyArray;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Gram anchoring in the training step: snapshot and refresh schedule, loss terms, checkpoint and resume. */
class GramAnchorTest {

    static final TestData DATA = new TestData(64, 20);

    static TrainSettings pico(String... extra) {
        List<String> sets = new ArrayList<>(List.of(
                "train.max-steps=10", "checkpoint.every-steps=5", "data.loader-threads=1", "gram.use-loss=true"));
        sets.addAll(List.of(extra));
        return TrainSettings.load("fmnist-pico", sets);
    }

    private static boolean sameBackbone(Map<String, NpyArray> gram, Map<String, NpyArray> ema) {
        for (Map.Entry<String, NpyArray> e : gram.entrySet()) {
            if (!Arrays.equals(e.getValue().floats(), ema.get(e.getKey()).floats())) {
                return false;
            }
        }
        return true;
    }

    @Test
    void snapshotIsTakenAndRefreshedAtTheConfiguredSteps() throws Exception {
        // load before step 1; refresh after steps j with j + 1 >= 2 and (j + 1) % 2 == 0, at most twice: after 1 and 3
        TrainSettings s = pico(
                "gram.it-load-ema-teacher=1",
                "gram.update-frequency=2",
                "gram.it-first-update=2",
                "gram.max-updates=2");
        GramSettings g = s.gram();
        assertEquals(
                List.of(false, true, false, true, false, false, false),
                List.of(
                        g.refreshAfter(0),
                        g.refreshAfter(1),
                        g.refreshAfter(2),
                        g.refreshAfter(3),
                        g.refreshAfter(4),
                        g.refreshAfter(5),
                        g.refreshAfter(6)));
        assertEquals(
                List.of(0L, 0L, 1L, 1L, 2L, 2L, 2L),
                List.of(
                        g.refreshesBefore(0),
                        g.refreshesBefore(1),
                        g.refreshesBefore(2),
                        g.refreshesBefore(3),
                        g.refreshesBefore(4),
                        g.refreshesBefore(5),
                        g.refreshesBefore(7)));
        try (NDManager m = NDManager.newBaseManager();
                SslMetaArch model = SslMetaArch.create(m, s.ssl(), 3)) {
            GramAnchor gram = new GramAnchor(m, g, s.ssl().backbone());
            model.setGram(gram);
            List<Boolean> equalAfter = new ArrayList<>();
            List<Boolean> changed = new ArrayList<>();
            List<Boolean> lossed = new ArrayList<>();
            for (int step = 0; step < 7; step++) {
                Map<String, NpyArray> before = gram.teacher().toHost();
                Map<String, NpyArray> emaBefore = model.ema().toHost();
                SslMetaArch.StepResult r;
                try (NDManager sm = m.newSubManager()) {
                    r = model.trainStep(
                            step, TestBatches.first(s, sm, DATA), s.schedules().at(step), StepRandom.forStep(0, step));
                }
                Map<String, NpyArray> after = gram.teacher().toHost();
                lossed.add(r.losses().logged().containsKey("gram_loss"));
                changed.add(!sameBackbone(after, before));
                equalAfter.add(sameBackbone(after, model.ema().toHost()));
                if (step == 1) {
                    assertFalse(sameBackbone(after, emaBefore), "refreshed after step 1, not only loaded before it");
                }
            }
            assertEquals(
                    List.of(false, true, true, true, true, true, true), lossed, "no Gram loss before the snapshot");
            assertEquals(List.of(false, true, false, true, false, false, false), changed);
            assertEquals(List.of(false, true, false, true, false, false, false), equalAfter);
        }
    }

    @Test
    void emaTeacherModeUsesTheTeacherOfTheStepAndWeightsFollowTheSchedule() throws Exception {
        TrainSettings s = pico(
                "gram.ema-teacher=true",
                "gram.rep-update=false",
                "gram.loss-weight-schedule.enabled=true",
                "gram.loss-weight-schedule.start=0",
                "gram.loss-weight-schedule.peak=1",
                "gram.loss-weight-schedule.end=2",
                "gram.loss-weight-schedule.warmup-epochs=2",
                "gram.loss-weight-schedule.cosine-epochs=4");
        GramSettings g = s.gram();
        // epoch length 10: linear 0 → 1 over 20 steps (endpoint excluded), cosine 1 → 2 over 40 steps, then 2
        assertEquals(0.0, g.weight(0), 1e-12);
        assertEquals(0.5, g.weight(10), 1e-12);
        assertEquals(1.0, g.weight(20), 1e-12);
        assertEquals(1.25, g.weight(20 + 13), 1e-12); // 2 − (cos(π·13/39) + 1) / 2
        assertEquals(2.0, g.weight(59), 1e-12);
        assertEquals(2.0, g.weight(1000), 1e-12);
        try (NDManager m = NDManager.newBaseManager();
                SslMetaArch model = SslMetaArch.create(m, s.ssl(), 3)) {
            GramAnchor gram = new GramAnchor(m, g, s.ssl().backbone());
            assertNull(gram.teacher());
            model.setGram(gram);
            try (NDManager sm = m.newSubManager()) {
                SslMetaArch.StepResult r = model.trainStep(
                        10, TestBatches.first(s, sm, DATA), s.schedules().at(10), StepRandom.forStep(0, 10));
                assertEquals(0.5, r.losses().logged().get("gram_loss_weight"), 1e-12);
                double gl = r.losses().logged().get("gram_loss");
                assertTrue(
                        gl > 0 && Double.isFinite(gl), "student (masked crops) and teacher (unmasked) differ: " + gl);
            }
        }
    }

    @Test
    void resumedRunRestoresTheGramTeacherBitwise(@TempDir Path tmp) throws Exception {
        // snapshot before step 0, refreshes after steps 3 and 7: the resume at 5 must restore the step-3 snapshot
        String[] gram = {"gram.update-frequency=4", "gram.loss-weight=5"};
        Path a = tmp.resolve("a");
        TrainLoop.Result full =
                new TrainingRun(pico(gram), a, false, null).withDataset(DATA).run();
        Path b = tmp.resolve("b");
        List<String> five = new ArrayList<>(List.of(gram));
        five.add("train.max-steps=5");
        new TrainingRun(pico(five.toArray(String[]::new)), b, false, null)
                .withDataset(DATA)
                .run();
        assertTrue(Files.isRegularFile(b.resolve("checkpoints/step-00000005/" + Checkpoints.GRAM_TEACHER)));
        new TrainingRun(pico(gram), b, true, null).withDataset(DATA).run();
        for (String f : new String[] {
            "student.safetensors",
            "teacher.safetensors",
            "optimizer.safetensors",
            "centers.safetensors",
            Checkpoints.GRAM_TEACHER
        }) {
            assertArrayEquals(
                    Files.readAllBytes(a.resolve("checkpoints/step-00000010/" + f)),
                    Files.readAllBytes(b.resolve("checkpoints/step-00000010/" + f)),
                    f + " differs after resume");
        }
        full.steps()
                .forEach(st -> assertTrue(
                        st.losses().containsKey("gram_loss"), st.losses().toString()));

        // the same resume without the snapshot in the checkpoint (re-taken from the EMA teacher) ends elsewhere:
        // the comparison above can fail
        Path c = tmp.resolve("c");
        new TrainingRun(pico(five.toArray(String[]::new)), c, false, null)
                .withDataset(DATA)
                .run();
        Files.delete(c.resolve("checkpoints/step-00000005/" + Checkpoints.GRAM_TEACHER));
        Path sums = c.resolve("checkpoints/step-00000005/SHA256SUMS");
        Files.write(
                sums,
                Files.readAllLines(sums).stream()
                        .filter(l -> !l.contains(Checkpoints.GRAM_TEACHER))
                        .toList());
        new TrainingRun(pico(gram), c, true, null).withDataset(DATA).run();
        assertFalse(Arrays.equals(
                Files.readAllBytes(a.resolve("checkpoints/step-00000010/student.safetensors")),
                Files.readAllBytes(c.resolve("checkpoints/step-00000010/student.safetensors"))));
    }

    @Test
    void offByDefaultAndBadKeysAreNamed(@TempDir Path tmp) throws Exception {
        TrainSettings off = TrainSettings.load("fmnist-pico", List.of("train.max-steps=2", "data.loader-threads=1"));
        assertNull(off.gram());
        TrainLoop.Result r =
                new TrainingRun(off, tmp, false, null).withDataset(DATA).run();
        assertFalse(r.steps().get(0).losses().containsKey("gram_loss"));
        assertFalse(Files.exists(tmp.resolve("checkpoints/step-00000002/" + Checkpoints.GRAM_TEACHER)));

        assertNamed("dinoj.gram.tokens-used", "gram.tokens-used=masked");
        assertNamed("dinoj.gram.tokens-used", "gram.tokens-used=some");
        assertNamed("dinoj.gram.rep-update", "gram.ema-teacher=true");
        assertNamed("dinoj.gram.remove-neg", "gram.remove-neg=true", "gram.remove-only-teacher-neg=true");
        assertNamed("dinoj.gram.update-frequency", "gram.update-frequency=0");
        assertNamed("dinoj.gram.loss-weight", "gram.loss-weight=-1");
        assertNamed(
                "dinoj.gram.loss-weight-schedule",
                "gram.loss-weight-schedule.enabled=true",
                "gram.loss-weight-schedule.warmup-epochs=8",
                "gram.loss-weight-schedule.cosine-epochs=8");
        // masked tokens at batch level are fine
        assertEquals(
                GramSettings.Tokens.MASKED,
                pico("gram.tokens-used=masked", "gram.img-level=false").gram().tokensUsed());
    }

    private static void assertNamed(String key, String... sets) {
        ConfigError e = assertThrows(ConfigError.class, () -> pico(sets));
        assertTrue(e.getMessage().contains(key), e.getMessage());
    }
}
