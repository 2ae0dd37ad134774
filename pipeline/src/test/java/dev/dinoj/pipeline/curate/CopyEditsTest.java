package dev.dinoj.pipeline.curate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.image.SyntheticPhotos;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CopyEditsTest {
    private static final RgbImage PHOTO = RgbImage.of(SyntheticPhotos.scene(60, 40, 3, 11));

    @Test
    void shouldBeDeterministicForASeedAndRecordTheEdits() {
        for (CopyEdits.Kind k : CopyEdits.Kind.values()) {
            CopyEdits.Copy a = CopyEdits.make(PHOTO, k, new SplittableRandom(7));
            CopyEdits.Copy b = CopyEdits.make(PHOTO, k, new SplittableRandom(7));
            assertArrayEquals(a.image().chw(), b.image().chw(), k.id());
            assertEquals(a.applied(), b.applied());
            assertEquals(k, a.kind());
            assertTrue(!a.applied().isEmpty(), k.id());
            assertNotEquals(0, diff(PHOTO, a.image()), k + " changed nothing");
        }
    }

    @Test
    void shouldKeepTheSizeExceptForPaddingAndMirrorExactly() {
        SplittableRandom rnd = new SplittableRandom(3);
        RgbImage crop = CopyEdits.make(PHOTO, CopyEdits.Kind.CROP, rnd).image();
        assertEquals(60, crop.width());
        assertEquals(40, crop.height());
        RgbImage pad = CopyEdits.make(PHOTO, CopyEdits.Kind.PAD, rnd).image();
        assertEquals(64, pad.width());
        assertEquals(44, pad.height());
        assertEquals(PHOTO.get(1, 5, 7), pad.get(1, 7, 9), 1e-6);
        RgbImage flip = CopyEdits.make(PHOTO, CopyEdits.Kind.FLIP, rnd).image();
        assertEquals(PHOTO.get(0, 0, 3), flip.get(0, 59, 3), 0f);
        CopyEdits.Copy mixed = CopyEdits.make(PHOTO, CopyEdits.Kind.MIXED, rnd);
        assertTrue(mixed.applied().get(0).startsWith("crop"));
        assertTrue(mixed.applied().get(mixed.applied().size() - 1).startsWith("jpeg"));
    }

    private static double diff(RgbImage a, RgbImage b) {
        if (a.width() != b.width() || a.height() != b.height()) {
            return 1;
        }
        double d = 0;
        for (int i = 0; i < a.chw().length; i++) {
            d += Math.abs(a.chw()[i] - b.chw()[i]);
        }
        return d;
    }
}
