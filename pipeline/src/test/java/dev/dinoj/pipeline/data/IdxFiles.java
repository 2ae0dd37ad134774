package dev.dinoj.pipeline.data;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Writes small IDX files for tests. Pixel {@code (i, y, x)} of the synthetic images is {@link #pixel}. */
final class IdxFiles {
    private IdxFiles() {}

    /** The synthetic value of image {@code i}, row {@code y}, column {@code x}. */
    static int pixel(int i, int y, int x) {
        return (i * 31 + y * 7 + x * 3) & 0xff;
    }

    /** Synthetic label of image {@code i} (classes 0..9). */
    static int label(int i) {
        return i % 10;
    }

    /** Bytes of an IDX image file with {@code n} synthetic images of {@code rows x cols}. */
    static byte[] images(int n, int rows, int cols) {
        ByteBuffer b = ByteBuffer.allocate(16 + n * rows * cols); // big-endian by default
        b.putInt(IdxDataset.IMAGES_MAGIC).putInt(n).putInt(rows).putInt(cols);
        for (int i = 0; i < n; i++) {
            for (int y = 0; y < rows; y++) {
                for (int x = 0; x < cols; x++) {
                    b.put((byte) pixel(i, y, x));
                }
            }
        }
        return b.array();
    }

    /** Bytes of an IDX label file with {@code n} synthetic labels. */
    static byte[] labels(int n) {
        ByteBuffer b = ByteBuffer.allocate(8 + n);
        b.putInt(IdxDataset.LABELS_MAGIC).putInt(n);
        for (int i = 0; i < n; i++) {
            b.put((byte) label(i));
        }
        return b.array();
    }

    static byte[] gzip(byte[] data) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(bytes)) {
            out.write(data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    static Path write(Path file, byte[] data) {
        try {
            Files.createDirectories(file.getParent());
            return Files.write(file, data);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
