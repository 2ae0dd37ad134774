package dev.dinoj.pipeline.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class RgbImageTest {
    @Test
    void shouldRejectBadShapesAndValues() {
        assertThrows(IllegalArgumentException.class, () -> new RgbImage(0, 1, new float[0]));
        assertThrows(IllegalArgumentException.class, () -> new RgbImage(2, 2, new float[11]));
        float[] bad = new float[12];
        bad[5] = 1.5f;
        assertThrows(IllegalArgumentException.class, () -> new RgbImage(2, 2, bad));
        bad[5] = Float.NaN;
        assertThrows(IllegalArgumentException.class, () -> new RgbImage(2, 2, bad));
    }

    @Test
    void shouldExpandGrayToThreeEqualChannelsInChwOrder() {
        byte[] gray = {0, (byte) 255, (byte) 128, 1, 2, 3};
        RgbImage img = RgbImage.fromGray8(3, 2, gray, 0);
        assertEquals(18, img.chw().length);
        assertEquals(1f, img.get(0, 1, 0));
        assertEquals(128 / 255f, img.get(1, 2, 0));
        assertEquals(3 / 255f, img.get(2, 2, 1));
        assertEquals(img.chw()[6 + 5], img.get(1, 2, 1)); // CHW: channel 1 starts at 6
    }
}
