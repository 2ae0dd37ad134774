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

    /**
     * Issue #17 item 6: two billion partitions (the driver keeps arrays per partition) or a 9999-pixel embedding of
     * every pool image are refused when the spec is made: at submit, or as a message that does not deserialize.
     */
    @Test
    void shouldRefusePoisonSizes() {
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new CurateSpec("s3://bkt/pool", "", "s3://bkt/out", 0, "pixels:28", "same", 2_000_000_000));
        assertTrue(e.getMessage().startsWith("curate.partitions = 2000000000 must be in [0, 4096]"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> new CurateSpec("s3://bkt/pool", "", "s3://bkt/out", 0, "pixels:9999", "same", 8));
        assertTrue(e.getMessage().contains("curate.embedder = pixels:9999"), e.getMessage());
        assertEquals(
                4096, new CurateSpec("s3://bkt/pool", "", "s3://bkt/out", 0, "pixels:256", "same", 4096).partitions());
    }
}
