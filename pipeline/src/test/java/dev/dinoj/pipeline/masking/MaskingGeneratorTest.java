package dev.dinoj.pipeline.masking;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MaskingGeneratorTest {
    private static int count(boolean[] mask) {
        int n = 0;
        for (boolean m : mask) {
            n += m ? 1 : 0;
        }
        return n;
    }

    @Test
    void shouldComputeMaxNumPatchesWithPythonPrecedence() {
        assertEquals(128.0, MaskingGenerator.officialMaxNumPatches(224, 14));
        assertEquals(32.0, MaskingGenerator.officialMaxNumPatches(32, 4));
        assertEquals(22.0, MaskingGenerator.officialMaxNumPatches(30, 4)); // not 0.5 * 7 * 7 = 24.5
        assertEquals(8.0, MaskingGenerator.officialMaxNumPatches(16, 4));
        MaskingGenerator g = MaskingGenerator.forGlobalCrops(224, 14);
        assertEquals(16, g.height());
        assertEquals(256, g.numPatches());
        assertEquals(128.0, g.maxNumPatches());
    }

    /** Replays {@code golden/masking.txt}: the official Python generator driven by the same scripted stream. */
    @Test
    void shouldMatchTheOfficialGeneratorDrawForDraw() throws IOException {
        var in = getClass().getResourceAsStream("/golden/masking.txt");
        assertNotNull(in, "golden/masking.txt missing");
        ScriptedRandom rng = new ScriptedRandom(); // the script runs all configurations on one stream, in file order
        int lines = 0;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (line.startsWith("#")) {
                    continue;
                }
                String[] t = line.split(" ");
                int img = Integer.parseInt(t[0]);
                int patch = Integer.parseInt(t[1]);
                int n = Integer.parseInt(t[3]);
                MaskingGenerator g = MaskingGenerator.forGlobalCrops(img, patch);
                assertEquals(Double.parseDouble(t[2]), g.maxNumPatches());
                boolean[] mask = g.generate(n, rng);
                StringBuilder bits = new StringBuilder();
                for (boolean m : mask) {
                    bits.append(m ? '1' : '0');
                }
                assertEquals(t[5], bits.toString(), line);
                assertEquals(Long.parseLong(t[4]), rng.draws(), "draws consumed after: " + line);
                lines++;
            }
        }
        assertEquals(132, lines);
    }

    @Test
    void shouldNeverExceedTheTargetAndUsuallyReachIt() {
        MaskingGenerator g = MaskingGenerator.forGlobalCrops(32, 4); // 8x8, max 32 per rectangle
        SplittableRandom rng = new SplittableRandom(3);
        int reached = 0;
        for (int t = 0; t < 2000; t++) {
            int target = t % 33;
            int c = count(g.generate(target, rng));
            assertTrue(c <= target, c + " > " + target);
            reached += c == target ? 1 : 0;
        }
        assertTrue(reached > 1000, "reached the target only " + reached + " times");
    }

    @Test
    void shouldReturnEmptyMaskForZeroWithoutDrawing() {
        ScriptedRandom rng = new ScriptedRandom();
        assertEquals(0, count(MaskingGenerator.forGlobalCrops(32, 4).generate(0, rng)));
        assertEquals(0, rng.draws());
    }

    @Test
    void shouldBeDeterministicAndClearTheTargetSlice() {
        MaskingGenerator g = MaskingGenerator.forGlobalCrops(32, 4);
        boolean[] a = g.generate(20, new SplittableRandom(9));
        boolean[] big = new boolean[3 * 64];
        java.util.Arrays.fill(big, true);
        int c = g.generate(20, new SplittableRandom(9), big, 64);
        assertArrayEquals(a, java.util.Arrays.copyOfRange(big, 64, 128));
        assertEquals(count(a), c);
        assertTrue(big[63] && big[128]); // outside the slice: untouched
    }

    @Test
    void shouldValidateArguments() {
        assertThrows(IllegalArgumentException.class, () -> new MaskingGenerator(4, 4, null, 4, null, 0.3, null));
        assertThrows(IllegalArgumentException.class, () -> new MaskingGenerator(0, 4, 3, 4, null, 0.3, null));
        MaskingGenerator g = new MaskingGenerator(4, 4, 6, 4, null, 0.3, 0.0); // maxAspect 0 → 1 / 0.3 (Python "or")
        assertEquals(6.0, g.maxNumPatches());
    }
}
