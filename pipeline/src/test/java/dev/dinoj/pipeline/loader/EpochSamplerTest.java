package dev.dinoj.pipeline.loader;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class EpochSamplerTest {
    @Test
    void shouldVisitEveryIndexOncePerEpochInAFreshOrder() {
        EpochSampler s = new EpochSampler(37, 5);
        int[] epoch0 = new int[37];
        int[] epoch1 = new int[37];
        for (int i = 0; i < 37; i++) {
            epoch0[i] = s.next();
        }
        for (int i = 0; i < 37; i++) {
            epoch1[i] = s.next();
        }
        assertEquals(74, s.position());
        int[] identity = new int[37];
        Arrays.setAll(identity, i -> i);
        assertArrayEquals(identity, Arrays.stream(epoch0).sorted().toArray());
        assertArrayEquals(identity, Arrays.stream(epoch1).sorted().toArray());
        assertFalse(Arrays.equals(epoch0, epoch1));
        assertFalse(Arrays.equals(identity, epoch0));
        assertArrayEquals(epoch1, EpochSampler.permutation(37, 5, 1)); // depends only on (seed, epoch)
        assertFalse(Arrays.equals(epoch0, EpochSampler.permutation(37, 6, 0)));
    }

    @Test
    void shouldResumeExactlyAfterSeek() {
        EpochSampler a = new EpochSampler(10, 1);
        int[] stream = new int[35];
        for (int i = 0; i < stream.length; i++) {
            stream[i] = a.next();
        }
        for (int start : new int[] {0, 7, 10, 23, 34}) {
            EpochSampler b = new EpochSampler(10, 1);
            b.seek(start);
            assertEquals(start, b.position());
            for (int i = start; i < stream.length; i++) {
                assertEquals(stream[i], b.next(), "position " + i);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> a.seek(-1));
        assertThrows(IllegalArgumentException.class, () -> new EpochSampler(0, 1));
    }
}
