package dev.dinoj.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionMnistTest {

    @AfterEach
    void clear() {
        System.clearProperty(FashionMnist.PROPERTY);
    }

    @Test
    void shouldFollowTheSystemProperty(@TempDir Path dir) throws Exception {
        System.setProperty(FashionMnist.PROPERTY, dir.toString());
        assertEquals(dir, FashionMnist.dir());
        assertFalse(FashionMnist.isInstalled());
        Path fallback = dir.resolve("subset");
        assertEquals(fallback, FashionMnist.dirOr(fallback));

        Files.write(dir.resolve("train-images-idx3-ubyte.gz"), new byte[] {1});
        assertTrue(FashionMnist.isInstalled());
        assertEquals(dir, FashionMnist.dirOr(fallback));
        assertEquals(dir, FashionMnist.assumeInstalled());
    }

    @Test
    void shouldDefaultToThePackageDirectory() {
        assertEquals(FashionMnist.PACKAGE_DIR, FashionMnist.dir());
    }
}
