package dev.dinoj.trainer.schedule;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** dinov2's CosineScheduler and train.py's build_schedulers. */
class SchedulesTest {

    @Test
    void warmupIsALinspaceWithBothEndpoints() {
        CosineScheduler s = new CosineScheduler(1.0, 0.0, 25, 5, 0.1, 0);
        assertEquals(0.1, s.get(0), 1e-15);
        assertEquals(0.1 + 0.9 * 2 / 4, s.get(2), 1e-15);
        assertEquals(1.0, s.get(4), 1e-15, "last warmup value is the base (np.linspace endpoint)");
        assertEquals(1.0, s.get(5), 1e-15, "cosine starts at the base");
    }

    @Test
    void cosinePartFollowsTheFormula() {
        double base = 2.0;
        double fin = 0.5;
        CosineScheduler s = new CosineScheduler(base, fin, 25, 5, 0.0, 0);
        int len = 20;
        for (int j = 0; j < len; j++) {
            double want = fin + 0.5 * (base - fin) * (1 + Math.cos(Math.PI * j / len));
            assertEquals(want, s.get(5 + j), 1e-15, "iteration " + (5 + j));
        }
        assertEquals((base + fin) / 2, s.get(15), 1e-15, "midpoint of the cosine");
        assertTrue(s.get(24) > fin, "the last scheduled value is still above final (np.arange excludes len)");
        assertEquals(fin, s.get(25), 0.0, "final from total_iters on");
        assertEquals(fin, s.get(1_000_000), 0.0);
        assertEquals(25, s.totalIters());
    }

    @Test
    void freezeItersAreZerosBeforeTheWarmup() {
        CosineScheduler s = new CosineScheduler(1.0, 0.0, 20, 4, 0.25, 3);
        for (int i = 0; i < 3; i++) {
            assertEquals(0.0, s.get(i), 0.0);
        }
        assertEquals(0.25, s.get(3), 1e-15);
        assertEquals(1.0, s.get(6), 1e-15);
        assertEquals(1.0, s.get(7), 1e-15);
        // cosine over 20 − 4 − 3 = 13 iterations
        assertEquals(0.5 * (1 + Math.cos(Math.PI * 5 / 13)), s.get(12), 1e-15);
    }

    @Test
    void constantAndInvalidLengths() {
        CosineScheduler c = CosineScheduler.constant(0.07);
        assertEquals(0.07, c.get(0));
        assertEquals(0.07, c.get(123));
        assertThrows(IllegalArgumentException.class, () -> new CosineScheduler(1, 0, 10, 8, 0, 3));
        assertThrows(IllegalArgumentException.class, () -> new CosineScheduler(1, 0, -1, 0, 0, 0));
    }

    private static final Pattern DEF = Pattern.compile(
            "CosineScheduler\\(([-+.eE0-9]+) -> ([-+.eE0-9]+), total (\\d+)(?:, warmup (\\d+) from ([-+.eE0-9]+))?"
                    + "(?:, freeze (\\d+))?\\)");

    /** Builds a scheduler from the fixture's definition string. */
    static CosineScheduler parse(String def) {
        Matcher m = DEF.matcher(def);
        assertTrue(m.matches(), "unparsed definition " + def);
        return new CosineScheduler(
                Double.parseDouble(m.group(1)),
                Double.parseDouble(m.group(2)),
                Long.parseLong(m.group(3)),
                m.group(4) == null ? 0 : Long.parseLong(m.group(4)),
                m.group(5) == null ? 0 : Double.parseDouble(m.group(5)),
                m.group(6) == null ? 0 : Long.parseLong(m.group(6)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "b"})
    void reproducesTheOfficialScheduleValues(String variant) throws Exception {
        Path manifest = Path.of(getClass()
                .getResource("/fixtures/dinov2-step/" + variant + "/manifest.json")
                .toURI());
        JsonNode s = new ObjectMapper().readTree(manifest.toFile()).get("schedules_first_45_iterations");
        JsonNode defs = s.get("definition");
        JsonNode values = s.get("values");
        int checked = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = defs.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            CosineScheduler sched = parse(e.getValue().asText());
            JsonNode v = values.get(e.getKey());
            assertEquals(45, v.size(), e.getKey());
            for (int i = 0; i < v.size(); i++) {
                assertEquals(v.get(i).asDouble(), sched.get(i), 1e-12, e.getKey() + " at iteration " + i);
                checked++;
            }
        }
        assertEquals(5 * 45, checked);
    }

    @Test
    void theFixtureLastLayerScheduleIsAFreezeThenTheShiftedLrSchedule() throws Exception {
        // freeze_iters=1 in the constructor shifts warmup and cosine by one iteration (unlike train.py's overwrite)
        Path manifest = Path.of(
                getClass().getResource("/fixtures/dinov2-step/a/manifest.json").toURI());
        JsonNode v = new ObjectMapper()
                .readTree(manifest.toFile())
                .get("schedules_first_45_iterations")
                .get("values");
        JsonNode ll = v.get("last_layer_lr");
        JsonNode lr = v.get("lr");
        assertEquals(0.0, ll.get(0).asDouble());
        for (int i = 1; i <= 10; i++) {
            assertEquals(lr.get(i - 1).asDouble(), ll.get(i).asDouble(), 1e-18, "warmup shifted by one at " + i);
        }
        assertTrue(
                Math.abs(ll.get(12).asDouble() - lr.get(12).asDouble()) > 1e-7, "cosine is over 29, not 30 iterations");
        CosineScheduler s = new CosineScheduler(1e-3, 1e-6, 40, 10, 1e-4, 1);
        assertEquals(1e-6 + 0.5 * (1e-3 - 1e-6) * (1 + Math.cos(Math.PI * 1 / 29)), s.get(12), 1e-18);
        assertEquals(ll.get(12).asDouble(), s.get(12), 1e-12);
    }

    @Test
    void officialSchedulesFollowTrainPy() {
        long epochs = 4;
        long len = 5;
        Schedules s = Schedules.official(epochs, len, 1e-3, 1e-6, 1, 0.04, 0.4, 0.992, 1.0, 0.07, 0.04, 2, 2);
        CosineScheduler lr = new CosineScheduler(1e-3, 1e-6, 20, 5, 0, 0);
        for (long it = 0; it < 25; it++) {
            Schedules.Values v = s.at(it);
            assertEquals(lr.get(it), v.lr(), 1e-15, "lr " + it);
            // last_layer_lr_schedule.schedule[:freeze_last_layer_epochs * OFFICIAL_EPOCH_LENGTH] = 0 (overwrite, no
            // shift)
            assertEquals(it < 10 ? 0.0 : lr.get(it), v.lastLayerLr(), 1e-15, "last-layer lr " + it);
            assertEquals(new CosineScheduler(0.04, 0.4, 20, 0, 0, 0).get(it), v.wd(), 1e-15, "wd " + it);
            assertEquals(new CosineScheduler(0.992, 1.0, 20, 0, 0, 0).get(it), v.momentum(), 1e-15, "momentum " + it);
            double tt = it < 10 ? 0.04 + (0.07 - 0.04) * it / 9 : 0.07;
            assertEquals(tt, v.teacherTemp(), 1e-15, "teacher temp " + it);
        }
        assertEquals(0.0, s.at(0).lr(), 0.0, "lr warms up from 0");
        assertEquals(1e-3, s.at(4).lr(), 1e-15, "peak at the end of the warmup");
        assertEquals(0.04, s.at(0).wd(), 1e-15);
        assertEquals(0.4, s.at(20).wd(), 0.0);
        assertEquals(1.0, s.at(20).momentum(), 0.0);
        assertEquals(1e-6, s.at(20).lastLayerLr(), 0.0);
    }

    @Test
    void lastLayerFreezeLongerThanTheRunKeepsFinalAfterTheEnd() {
        // numpy: schedule[:n] = 0 with n > total zeroes all scheduled values; __getitem__ past the end is final_value
        Schedules s = Schedules.official(2, 3, 1e-3, 1e-6, 1, 0.04, 0.4, 0.992, 1.0, 0.07, 0.04, 1, 5);
        for (long it = 0; it < 6; it++) {
            assertEquals(0.0, s.at(it).lastLayerLr(), 0.0);
        }
        assertEquals(1e-6, s.at(6).lastLayerLr(), 0.0);
    }

    @Test
    void scaledLrRules() {
        assertEquals(0.001, Schedules.scaledLr("sqrt_wrt_1024", 0.004, 64), 1e-15);
        assertEquals(0.004 * Math.sqrt(2048 / 1024.0), Schedules.scaledLr("sqrt_wrt_1024", 0.004, 2048), 1e-15);
        assertEquals(0.004, Schedules.scaledLr("sqrt_wrt_1024", 0.004, 1024), 1e-15);
        assertEquals(0.001, Schedules.scaledLr("linear_wrt_256", 0.004, 64), 1e-15);
        assertEquals(0.004, Schedules.scaledLr("none", 0.004, 64), 0.0);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> Schedules.scaledLr("sqrt", 0.004, 64));
        assertTrue(e.getMessage().contains("sqrt"), e.getMessage());
    }
}
