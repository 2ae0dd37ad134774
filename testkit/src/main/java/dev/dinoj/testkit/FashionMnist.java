package dev.dinoj.testkit;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the tests find Fashion-MNIST: the Debian package {@code dataset-fashion-mnist}'s directory, or the directory in
 * the system property {@value #PROPERTY}. Tests that need the full set skip without it.
 */
public final class FashionMnist {
    /** The system property that points the tests at another copy of the files. */
    public static final String PROPERTY = "dinoj.fashionMnist.dir";
    /** Where {@code apt-get install dataset-fashion-mnist} puts the files. */
    public static final Path PACKAGE_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    private FashionMnist() {}

    /** The directory of the files: {@value #PROPERTY} if set, else {@link #PACKAGE_DIR}. */
    public static Path dir() {
        String prop = System.getProperty(PROPERTY);
        return prop != null && !prop.isBlank() ? Path.of(prop) : PACKAGE_DIR;
    }

    /** True when {@link #dir()} holds the training images ({@code train-images-idx3-ubyte}, gzipped or not). */
    public static boolean isInstalled() {
        Path d = dir();
        return Files.isRegularFile(d.resolve("train-images-idx3-ubyte.gz"))
                || Files.isRegularFile(d.resolve("train-images-idx3-ubyte"));
    }

    /** {@link #dir()}, or skips the calling test (a JUnit assumption) when the files are not there. */
    public static Path assumeInstalled() {
        assumeTrue(isInstalled(), "Fashion-MNIST not installed in " + dir());
        return dir();
    }

    /** {@link #dir()} when installed, else {@code fallback} (e.g. a subset shipped with the tests). */
    public static Path dirOr(Path fallback) {
        return isInstalled() ? dir() : fallback;
    }
}
