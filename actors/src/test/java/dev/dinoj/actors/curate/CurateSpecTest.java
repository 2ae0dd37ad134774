package dev.dinoj.actors.curate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.pipeline.curate.AlignedCopyDetector;
import java.util.List;
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

    @Test
    void shouldReadAndCheckTheExcludeSets() {
        CurateSpec c = CurateSpec.fromConfig(
                com.typesafe.config.ConfigFactory.parseString(
                        "curate { source = \"s3://bkt/pool\", queries = \"\", out = \"s3://bkt/out\", target-size = 0,"
                                + " embedder = \"\", copy-embedder = \"\", partitions = 0,"
                                + " exclude = [\"fashion-mnist:test\", \" curated:s3://bkt/eval \"], exclude-threshold = 0.975 }"));
        assertEquals(List.of("fashion-mnist:test", "curated:s3://bkt/eval"), c.excludeSets());
        assertEquals(0.975f, c.excludeThreshold());
        assertEquals(
                AlignedCopyDetector.THRESHOLD,
                new CurateSpec("s3://bkt/pool", "", "s3://bkt/out", 0, "", "", 0).excludeThreshold());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> new CurateSpec(
                        "s3://bkt/pool", "", "s3://bkt/out", 0, "", "", 0, new String[] {"test-split"}, 0));
        assertTrue(e.getMessage().startsWith("curate.exclude[0] = test-split: not an image set"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> new CurateSpec("s3://bkt/pool", "", "s3://bkt/out", 0, "", "", 0, new String[0], 1.5f));
        assertTrue(e.getMessage().startsWith("curate.exclude-threshold = 1.5"), e.getMessage());
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
