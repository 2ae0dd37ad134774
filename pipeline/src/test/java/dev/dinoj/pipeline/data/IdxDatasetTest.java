package dev.dinoj.pipeline.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxDatasetTest {
    @TempDir
    Path dir;

    private static void assertSynthetic(IdxDataset ds, int n, int rows, int cols) {
        assertEquals(n, ds.size());
        assertEquals(rows, ds.rows());
        assertEquals(cols, ds.cols());
        for (int i = 0; i < n; i++) {
            RgbImage img = ds.image(i);
            assertEquals(cols, img.width());
            assertEquals(rows, img.height());
            for (int y = 0; y < rows; y++) {
                for (int x = 0; x < cols; x++) {
                    float v = IdxFiles.pixel(i, y, x) / 255f;
                    for (int c = 0; c < 3; c++) {
                        assertEquals(v, img.get(c, x, y), "image " + i + " c" + c + " (" + x + "," + y + ")");
                    }
                }
            }
        }
    }

    @Test
    void shouldReadRawFilesLazily() {
        Path images = IdxFiles.write(dir.resolve("imgs"), IdxFiles.images(5, 4, 3));
        Path labels = IdxFiles.write(dir.resolve("labs"), IdxFiles.labels(5));
        IdxDataset ds = IdxDataset.open(images, labels);
        assertSynthetic(ds, 5, 4, 3);
        for (int i = 0; i < 5; i++) {
            assertEquals(IdxFiles.label(i), ds.label(i));
        }
        assertEquals(5, ds.numClasses()); // labels 0..4 present
        assertTrue(ds.describe().contains("5 images 3x4"), ds.describe());
    }

    @Test
    void shouldDetectGzipByMagicNotByName() {
        Path gzNoSuffix = IdxFiles.write(dir.resolve("images-compressed"), IdxFiles.gzip(IdxFiles.images(7, 2, 2)));
        Path rawWithGzSuffix = IdxFiles.write(dir.resolve("labels.gz"), IdxFiles.labels(7));
        IdxDataset ds = IdxDataset.open(gzNoSuffix, rawWithGzSuffix);
        assertSynthetic(ds, 7, 2, 2);
        assertEquals(6, ds.label(6));
    }

    @Test
    void shouldHaveNoLabelsWithoutLabelFile() {
        IdxDataset ds = IdxDataset.open(IdxFiles.write(dir.resolve("i"), IdxFiles.images(2, 2, 2)), null);
        assertEquals(-1, ds.label(1));
        assertEquals(0, ds.numClasses());
        assertThrows(IndexOutOfBoundsException.class, () -> ds.image(2));
    }

    @Test
    void shouldFindFashionMnistFilesByStandardName() {
        IdxFiles.write(dir.resolve("t10k-images-idx3-ubyte.gz"), IdxFiles.gzip(IdxFiles.images(3, 28, 28)));
        IdxFiles.write(dir.resolve("t10k-labels-idx1-ubyte"), IdxFiles.labels(3)); // uncompressed name also found
        IdxDataset test = IdxDataset.fashionMnist(dir, false);
        assertSynthetic(test, 3, 28, 28);
        DatasetException e = assertThrows(DatasetException.class, () -> IdxDataset.fashionMnist(dir, true));
        assertMessage(e, "train-images-idx3-ubyte", "file not found", "dataset-fashion-mnist");
    }

    @Test
    void shouldExplainMissingDirectory() {
        DatasetException e =
                assertThrows(DatasetException.class, () -> IdxDataset.fashionMnist(dir.resolve("nowhere"), true));
        assertMessage(e, "nowhere", "not found", "apt-get install dataset-fashion-mnist");
    }

    @Test
    void shouldExplainMissingFile() {
        Path missing = dir.resolve("train-images-idx3-ubyte.gz");
        DatasetException e = assertThrows(DatasetException.class, () -> IdxDataset.open(missing, null));
        assertMessage(e, missing.toString(), "file not found", "dataset-fashion-mnist");
    }

    @Test
    void shouldExplainTruncatedPixelData() {
        byte[] full = IdxFiles.images(10, 28, 28);
        Path file = IdxFiles.write(
                dir.resolve("train-images-idx3-ubyte.gz"), IdxFiles.gzip(Arrays.copyOf(full, 16 + 1234)));
        DatasetException e = assertThrows(DatasetException.class, () -> IdxDataset.open(file, null));
        assertMessage(
                e,
                file.toString(),
                "truncated: header says 10 images of 28x28 but only 1234 bytes of pixel data",
                "reinstall dataset-fashion-mnist");
    }

    @Test
    void shouldExplainTruncatedGzipStream() {
        byte[] gz = IdxFiles.gzip(IdxFiles.images(50, 28, 28));
        Path file = IdxFiles.write(dir.resolve("cut.gz"), Arrays.copyOf(gz, gz.length / 2));
        DatasetException e = assertThrows(DatasetException.class, () -> IdxDataset.open(file, null));
        assertMessage(e, file.toString(), "truncated: the gzip stream ends early", "re-download");
    }

    @Test
    void shouldExplainTruncatedHeader() {
        Path file = IdxFiles.write(dir.resolve("short"), Arrays.copyOf(IdxFiles.images(1, 2, 2), 10));
        DatasetException e = assertThrows(DatasetException.class, () -> IdxDataset.open(file, null));
        assertMessage(e, file.toString(), "truncated: an IDX image header needs 16 bytes but the file has 10");
    }

    @Test
    void shouldExplainTrailingBytes() {
        Path file = IdxFiles.write(dir.resolve("long"), Arrays.copyOf(IdxFiles.images(1, 2, 2), 16 + 4 + 3));
        DatasetException e = assertThrows(DatasetException.class, () -> IdxDataset.open(file, null));
        assertMessage(e, file.toString(), "3 bytes after the last of the 1 images");
    }

    @Test
    void shouldExplainSwappedFiles() {
        Path images = IdxFiles.write(dir.resolve("i"), IdxFiles.images(2, 2, 2));
        Path labels = IdxFiles.write(dir.resolve("l"), IdxFiles.labels(2));
        DatasetException e = assertThrows(DatasetException.class, () -> IdxDataset.open(labels, images));
        assertMessage(
                e,
                labels.toString(),
                "wrong magic number: this is an IDX label file (magic 0x00000801)",
                "images and labels swapped");
    }

    @Test
    void shouldExplainForeignFile() {
        Path png = IdxFiles.write(dir.resolve("x.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 0, 0, 0});
        DatasetException e = assertThrows(DatasetException.class, () -> IdxDataset.open(png, null));
        assertMessage(e, png.toString(), "not an IDX unsigned-byte file (magic 0x89504e47)");
    }

    @Test
    void shouldExplainCountMismatch() {
        Path images = IdxFiles.write(dir.resolve("train-images"), IdxFiles.images(6, 2, 2));
        Path labels = IdxFiles.write(dir.resolve("t10k-labels"), IdxFiles.labels(5));
        DatasetException e = assertThrows(DatasetException.class, () -> IdxDataset.open(images, labels));
        assertMessage(
                e,
                labels.toString(),
                "has 5 labels but " + images + " has 6 images",
                "label file that belongs to the image file");
    }

    @Test
    void shouldExplainTruncatedLabels() {
        Path images = IdxFiles.write(dir.resolve("i"), IdxFiles.images(6, 2, 2));
        Path labels = IdxFiles.write(dir.resolve("l"), Arrays.copyOf(IdxFiles.labels(6), 8 + 4));
        DatasetException e = assertThrows(DatasetException.class, () -> IdxDataset.open(images, labels));
        assertMessage(e, labels.toString(), "truncated: header says 6 labels but only 4 bytes of label data");
    }

    static void assertMessage(Exception e, String... parts) {
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), "message lacks [" + part + "]: " + e.getMessage());
        }
    }
}
