package dev.dinoj.pipeline.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.util.SplittableRandom;
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

    /** A {@code w × h} image of random colours (and alpha) of {@code type}. */
    private static BufferedImage random(int w, int h, int type, long seed) {
        BufferedImage img = new BufferedImage(w, h, type);
        SplittableRandom r = new SplittableRandom(seed);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, r.nextInt());
            }
        }
        return img;
    }

    private static BufferedImage as(BufferedImage src, int type) {
        BufferedImage out = new BufferedImage(src.getWidth(), src.getHeight(), type);
        for (int y = 0; y < src.getHeight(); y++) {
            for (int x = 0; x < src.getWidth(); x++) {
                out.setRGB(x, y, src.getRGB(x, y));
            }
        }
        return out;
    }

    @Test
    void interleavedBytesShouldGiveTheFloatsOfTheGeneralPathInEveryOrientation() {
        BufferedImage bgr = random(7, 5, BufferedImage.TYPE_3BYTE_BGR, 1);
        BufferedImage abgr = random(7, 5, BufferedImage.TYPE_4BYTE_ABGR, 2);
        BufferedImage big = random(12, 9, BufferedImage.TYPE_3BYTE_BGR, 3);
        BufferedImage sub = big.getSubimage(3, 2, 7, 5); // a raster inside a larger array
        for (int o = 1; o <= 8; o++) {
            // TYPE_INT_RGB / _ARGB go the general path (getRGB), the byte types the direct one
            RgbImage want = RgbImage.of(as(bgr, BufferedImage.TYPE_INT_RGB), o);
            RgbImage got = RgbImage.of(bgr, o);
            assertEquals(want.width(), got.width());
            assertArrayEquals(want.chw(), got.chw(), "3-byte BGR, orientation " + o);
            assertArrayEquals(
                    RgbImage.of(as(abgr, BufferedImage.TYPE_INT_ARGB), o).chw(),
                    RgbImage.of(abgr, o).chw(),
                    "4-byte ABGR (alpha dropped), orientation " + o);
            assertArrayEquals(
                    RgbImage.of(as(sub, BufferedImage.TYPE_INT_RGB), o).chw(),
                    RgbImage.of(sub, o).chw(),
                    "sub-image, orientation " + o);
        }
    }
}
