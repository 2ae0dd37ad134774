package dev.dinoj.pipeline.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The work manifest after a crash mid-write: the torn line is dropped and the next one survives. */
class ManifestTest {

    static ManifestEntry entry(String key) {
        return ManifestEntry.of(key, "etag-" + key, 10, ObjectState.FILTERED, "test");
    }

    @Test
    void shouldCutATornLastLineSoTheNextLineIsNotLost(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("manifest.jsonl");
        try (Manifest m = Manifest.open(file)) {
            m.append(List.of(entry("a"), entry("b")));
        }
        // a crash in the middle of the next line: no newline at the end
        Files.write(file, "{\"key\":\"c\",\"etag\":\"et".getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
        try (Manifest m = Manifest.open(file)) {
            assertNull(m.get("c"), "the torn line is not an entry");
            m.append(List.of(entry("d")));
        }
        try (Manifest m = Manifest.open(file)) {
            assertEquals(ObjectState.FILTERED, m.get("a").state());
            assertEquals(ObjectState.FILTERED, m.get("d").state(), "the line appended after the torn one is kept");
            assertTrue(m.isDone("d", "etag-d"));
        }
        assertEquals(3, Files.readAllLines(file).size(), "the torn bytes are gone");
    }
}
