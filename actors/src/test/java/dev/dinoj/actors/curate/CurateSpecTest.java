package dev.dinoj.actors.curate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CurateSpecTest {

    @Test
    void shouldRefuseABadCurateSpecNamingTheKey() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new CurateSpec("s3://bkt/pool", "", "s3://bkt/out", 0, "resnet:50", "same", 0));
        assertTrue(e.getMessage().contains("curate.embedder = resnet:50"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> new CurateSpec("", "", "s3://bkt/out", 0, "pixels:28", "same", 0));
        assertTrue(e.getMessage().contains("curate.source"), e.getMessage());
        assertEquals(
                "curated:s3://bkt/out",
                new CurateSpec("s3://bkt/pool", null, "s3://bkt/out", 10, null, null, 0).dataset());
    }
}
