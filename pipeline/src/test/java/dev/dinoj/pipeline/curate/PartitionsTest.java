package dev.dinoj.pipeline.curate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PartitionsTest {

    @Test
    void shouldHashKeysToTheSamePartitionOnEveryJvm() {
        // FNV-1a 64 of the UTF-8 key, floorMod n: pinned, because finished partitions of a run are reused by key
        assertEquals(5, Partitions.of("pool/0/00001.png", 7));
        assertEquals(887, Partitions.of("pool/1/00002.png", 1000));
        assertEquals(4, Partitions.of("pool/near/3.jpg", 7));
        assertEquals(234, Partitions.of("pool/text/0.txt", 1000));
        Set<Integer> used = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            int p = Partitions.of("pool/" + (i % 10) + "/" + String.format("%05d", i) + ".png", 8);
            assertTrue(p >= 0 && p < 8);
            used.add(p);
        }
        assertEquals(8, used.size(), "200 keys should reach all 8 partitions");
        assertEquals(Path.of("/r/curation/parts/part-00003"), Partitions.done(Path.of("/r"), 3));
    }

    @Test
    void shouldCountTheKeysOfEachPartition() {
        long[] per = Partitions.counts(List.of("pool/0/00001.png", "pool/near/3.jpg", "pool/x.png"), 7);
        long[] expected = new long[7];
        expected[5]++;
        expected[4]++;
        expected[Partitions.of("pool/x.png", 7)]++;
        assertArrayEquals(expected, per);
        assertEquals(3, java.util.Arrays.stream(per).sum());
    }
}
