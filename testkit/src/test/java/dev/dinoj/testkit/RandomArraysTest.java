package dev.dinoj.testkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RandomArraysTest {

    @Test
    void shouldRepeatForASeedAndStayInRange() {
        float[] a = RandomArrays.uniform(1000, 42);
        assertArrayEquals(a, RandomArrays.uniform(1000, 42));
        assertFalse(Arrays.equals(a, RandomArrays.uniform(1000, 43)));
        for (float v : a) {
            assertTrue(v >= -1 && v < 1, "out of [-1, 1): " + v);
        }
        assertArrayEquals(a, RandomArrays.uniform(1000, 1.0, 42));
        float[] s = RandomArrays.uniform(1000, 0.25, 42);
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i] * 0.25f, s[i], 1e-7f);
        }
    }

    @Test
    void shouldContinueOneGenerator() {
        SplittableRandom r = new SplittableRandom(5);
        float[] first = RandomArrays.uniform(r, 10);
        float[] second = RandomArrays.uniform(r, 10);
        float[] both = RandomArrays.uniform(20, 5);
        assertArrayEquals(Arrays.copyOfRange(both, 0, 10), first);
        assertArrayEquals(Arrays.copyOfRange(both, 10, 20), second);
    }

    @Test
    void shouldDrawStandardNormals() {
        float[] g = RandomArrays.gaussian(new Random(3), 20_000);
        double mean = 0;
        double sq = 0;
        for (float v : g) {
            mean += v;
            sq += v * v;
        }
        mean /= g.length;
        assertEquals(0, mean, 0.05);
        assertEquals(1, sq / g.length - mean * mean, 0.05);
        assertEquals(new Random(3).nextGaussian(), g[0], 1e-6);
    }
}
