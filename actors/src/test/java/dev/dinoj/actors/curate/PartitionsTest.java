package dev.dinoj.actors.curate;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    void shouldRefuseABadCurateSpecNamingTheKey() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new CurateSpec("s3://bkt/pool", "", "s3://bkt/out", 0, "resnet:50", "same", 0));
        assertTrue(e.getMessage().contains("curate.embedder = resnet:50"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new CurateSpec("", "", "s3://bkt/out", 0, "pixels:28", "same", 0));
        assertTrue(e.getMessage().contains("curate.source"), e.getMessage());
        assertEquals("curated:s3://bkt/out", new CurateSpec("s3://bkt/pool", null, "s3://bkt/out", 10, null, null, 0).dataset());
    }
}
