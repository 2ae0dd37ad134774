package dev.dinoj.pipeline.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.dinoj.pipeline.data.RgbImage;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * {@link Geometric#resample} against Pillow's {@code crop(...).resize(..., BICUBIC)} (what torchvision's
 * {@code RandomResizedCrop} does to a PIL image), from {@code golden/pil_bicubic.txt} made by
 * {@code golden/make_pil_bicubic.py}. Pillow rounds to uint8 (also between its two passes) and uses
 * fixed-point weights, so values may differ by about one grey level.
 */
class PilBicubicGoldenTest {
    @Test
    void shouldMatchPillowWithinRounding() throws IOException {
        var in = getClass().getResourceAsStream("/golden/pil_bicubic.txt");
        assertNotNull(in, "golden/pil_bicubic.txt missing");
        RgbImage image = null;
        int cases = 0;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII))) {
            for (String line; (line = r.readLine()) != null; ) {
                String[] t = line.trim().split("\\s+");
                if (t[0].equals("image")) {
                    int w = Integer.parseInt(t[1]);
                    int h = Integer.parseInt(t[2]);
                    image = new RgbImage(w, h, bytes(t, 3, 3 * w * h));
                } else if (t[0].equals("case")) {
                    int[] p = Arrays.stream(t, 1, 6).mapToInt(Integer::parseInt).toArray();
                    int size = p[4];
                    float[] expected = bytes(t, 6, 3 * size * size);
                    float[] actual = new float[expected.length];
                    Geometric.resample(image, new CropBox(p[0], p[1], p[2], p[3]), size, actual, new Scratch());
                    double maxDiff = 0;
                    for (int i = 0; i < actual.length; i++) {
                        maxDiff = Math.max(maxDiff, Math.abs(actual[i] - expected[i]));
                    }
                    System.out.printf(
                            "PIL bicubic %s: max diff %.3f grey levels%n", line.substring(0, 20), maxDiff * 255);
                    assertEquals(0, maxDiff * 255, 1.51, "case " + line.substring(0, 40) + ": max diff in grey levels");
                    cases++;
                }
            }
        }
        assertEquals(5, cases);
    }

    private static float[] bytes(String[] t, int from, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = Integer.parseInt(t[from + i]) / 255f;
        }
        return v;
    }
}
