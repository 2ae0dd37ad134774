package dev.dinoj.trainer.checkpoint;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checksummed directories: what {@code SHA256SUMS} must list, and how a bad checksum file is refused. */
class AtomicDirectoryTest {

    /** A committed directory with files a, b (and SHA256SUMS over both). */
    private static Path committed(Path root) throws IOException {
        Path tmp = root.resolve(".tmp-step");
        Files.createDirectories(tmp);
        Files.writeString(tmp.resolve("a.safetensors"), "alpha");
        Files.writeString(tmp.resolve("b.json"), "{\"step\":1}");
        Path fin = root.resolve("step-1");
        AtomicDirectory.commit(tmp, fin);
        return fin;
    }

    private static void writeSums(Path dir, String text) throws IOException {
        Files.writeString(dir.resolve(AtomicDirectory.SUMS), text, StandardCharsets.UTF_8);
    }

    @Test
    void shouldPassACompleteDirectoryAndFailACorruptedFile(@TempDir Path root) throws IOException {
        Path dir = committed(root);
        assertDoesNotThrow(() -> AtomicDirectory.verify(dir));
        Files.writeString(dir.resolve("a.safetensors"), "alphA");
        CheckpointException e = assertThrows(CheckpointException.class, () -> AtomicDirectory.verify(dir));
        assertTrue(e.getMessage().contains("a.safetensors: checksum mismatch"), e.getMessage());
    }

    @Test
    void shouldRefuseAnEmptyChecksumFile(@TempDir Path root) throws IOException {
        Path dir = committed(root);
        writeSums(dir, "");
        CheckpointException e = assertThrows(CheckpointException.class, () -> AtomicDirectory.verify(dir));
        assertTrue(e.getMessage().contains("not listed in SHA256SUMS"), e.getMessage());
    }

    @Test
    void shouldRefuseATruncatedChecksumFileNamingTheUnlistedFile(@TempDir Path root) throws IOException {
        Path dir = committed(root);
        List<String> lines = Files.readAllLines(dir.resolve(AtomicDirectory.SUMS));
        writeSums(dir, lines.get(0) + "\n");
        CheckpointException e = assertThrows(CheckpointException.class, () -> AtomicDirectory.verify(dir));
        assertTrue(e.getMessage().contains("b.json: not listed"), e.getMessage());
    }

    @Test
    void shouldRefuseAMalformedLineWithOneClearError(@TempDir Path root) throws IOException {
        Path dir = committed(root);
        String good = Files.readString(dir.resolve(AtomicDirectory.SUMS));
        for (String bad : List.of("abc\n", "zz" + "0".repeat(62) + "  a.safetensors\n", "0".repeat(64) + " x\n")) {
            writeSums(dir, good + bad);
            CheckpointException e = assertThrows(CheckpointException.class, () -> AtomicDirectory.verify(dir), bad);
            assertTrue(e.getMessage().contains("line 3 is not"), e.getMessage());
        }
    }

    @Test
    void shouldRefuseANameOutsideTheDirectory(@TempDir Path root) throws IOException {
        Path dir = committed(root);
        Files.writeString(root.resolve("outside"), "x");
        String sha = AtomicDirectory.sha256(root.resolve("outside"));
        writeSums(dir, Files.readString(dir.resolve(AtomicDirectory.SUMS)) + sha + "  ../outside\n");
        assertThrows(CheckpointException.class, () -> AtomicDirectory.verify(dir));
        assertThrows(CheckpointException.class, () -> AtomicDirectory.verify(dir, Set.of("../outside")));
    }

    @Test
    void shouldRequireTheFilesAReaderNeeds(@TempDir Path root) throws IOException {
        Path dir = committed(root);
        assertDoesNotThrow(() -> AtomicDirectory.verifyComplete(dir, Set.of("a.safetensors", "b.json")));
        CheckpointException e = assertThrows(
                CheckpointException.class,
                () -> AtomicDirectory.verifyComplete(dir, Set.of("a.safetensors", "optimizer.safetensors")));
        assertTrue(e.getMessage().contains("does not list [optimizer.safetensors]"), e.getMessage());
    }
}
