package dev.dinoj.trainer.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import ai.djl.ndarray.NDManager;
import dev.dinoj.trainer.config.SslConfig;
import dev.dinoj.trainer.config.TrainSettings;
import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.model.ParamSet;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The EMA teacher update ({@code teacher ← m·teacher + (1 − m)·student} over every parameter). */
class TeacherEmaTest {

    static SslConfig picoConfig() {
        return TrainSettings.load("fmnist-pico", List.of()).ssl();
    }

    /** Overwrites every student parameter with fresh random values; returns them. */
    private static Map<String, NpyArray> perturb(ParamSet student, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (String name : student.names()) {
            int n = (int) student.get(name).getShape().size();
            float[] v = new float[n];
            for (int i = 0; i < n; i++) {
                v[i] = (float) (r.nextDouble() * 2 - 1);
            }
            student.get(name).set(v);
        }
        return student.toHost();
    }

    @Test
    void momentumOneKeepsZeroCopiesAndHalfAverages() {
        try (NDManager m = NDManager.newBaseManager();
                SslMetaArch model = SslMetaArch.create(m, picoConfig(), 7)) {
            Map<String, NpyArray> t0 = model.teacher().toHost();
            Map<String, NpyArray> s0 = model.student().toHost();
            assertEquals(s0.keySet(), t0.keySet());
            for (String k : t0.keySet()) {
                assertArrayEquals(s0.get(k).floats(), t0.get(k).floats(), "the teacher starts as a copy: " + k);
            }

            Map<String, NpyArray> s1 = perturb(model.student(), 1);
            model.updateTeacher(1.0);
            Map<String, NpyArray> t1 = model.teacher().toHost();
            for (String k : t0.keySet()) {
                assertArrayEquals(t0.get(k).floats(), t1.get(k).floats(), "m = 1 keeps the teacher: " + k);
                assertFalse(
                        java.util.Arrays.equals(s1.get(k).floats(), t1.get(k).floats()), k);
            }

            model.updateTeacher(0.5);
            Map<String, NpyArray> t2 = model.teacher().toHost();
            for (String k : t0.keySet()) {
                float[] a = t0.get(k).floats();
                float[] b = s1.get(k).floats();
                float[] got = t2.get(k).floats();
                for (int i = 0; i < a.length; i++) {
                    assertEquals(0.5 * a[i] + 0.5 * b[i], got[i], 1e-6, "m = 0.5 averages: " + k + "[" + i + "]");
                }
            }

            model.updateTeacher(0.0);
            Map<String, NpyArray> t3 = model.teacher().toHost();
            for (String k : t0.keySet()) {
                assertArrayEquals(s1.get(k).floats(), t3.get(k).floats(), "m = 0 copies the student: " + k);
            }

            Map<String, NpyArray> s2 = perturb(model.student(), 2);
            model.updateTeacher(0.992);
            Map<String, NpyArray> t4 = model.teacher().toHost();
            for (String k : t0.keySet()) {
                float[] a = t3.get(k).floats();
                float[] b = s2.get(k).floats();
                float[] got = t4.get(k).floats();
                for (int i = 0; i < a.length; i++) {
                    assertEquals(0.992 * a[i] + 0.008 * b[i], got[i], 1e-6, "m = 0.992: " + k + "[" + i + "]");
                }
            }
            // the student itself is never touched by the EMA
            Map<String, NpyArray> sAfter = model.student().toHost();
            for (String k : s2.keySet()) {
                assertArrayEquals(s2.get(k).floats(), sAfter.get(k).floats(), k);
            }
        }
    }
}
