package dev.dinoj.pipeline.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reads of a folder store at their size limits. */
class LocalObjectStoreTest {

    @Test
    void shouldReadWholeObjectsUpToAnyLimitAndRefuseLargerOnes(@TempDir Path dir) throws Exception {
        byte[] bytes = new byte[1000];
        for (int i = 0; i < bytes.length; i++) {
            bytes[i] = (byte) i;
        }
        Files.createDirectories(dir.resolve("a"));
        Files.write(dir.resolve("a/obj.bin"), bytes);
        LocalObjectStore store = new LocalObjectStore(dir);
        // no limit: maxBytes + 1 must not overflow into an empty read
        assertArrayEquals(
                bytes,
                store.get("a/obj.bin", Long.MAX_VALUE)
                        .toCompletableFuture()
                        .join()
                        .data());
        assertArrayEquals(
                bytes, store.get("a/obj.bin", 1000).toCompletableFuture().join().data());
        CompletionException e = assertThrows(
                CompletionException.class,
                () -> store.get("a/obj.bin", 999).toCompletableFuture().join());
        assertEquals(StorageException.Kind.TOO_LARGE, ((StorageException) e.getCause()).kind());
    }
}
