package dev.dinoj.pipeline.data;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Images (and optional labels) from IDX files, the MNIST / Fashion-MNIST format.
 *
 * <p>An image file is big-endian: magic {@code 0x00000803} (unsigned bytes, 3 dimensions), then the image
 * count, rows, columns, then {@code count * rows * cols} pixel bytes, row-major, 0 = black. A label file is
 * magic {@code 0x00000801}, the count, then one byte per label. Either file may be gzip-compressed; that is
 * detected from the gzip magic {@code 0x1f8b}, never from the file name.
 *
 * <p>The whole (decompressed) file is kept as one {@code byte[]} (Fashion-MNIST train: 60000 x 28 x 28 =
 * 47 MB) and images are decoded on demand into {@link RgbImage}s with three identical channels. Instances
 * are immutable and thread-safe.
 */
public final class IdxDataset implements ImageDataset {
    /** Magic number of an IDX file of unsigned bytes with 3 dimensions (images). */
    public static final int IMAGES_MAGIC = 0x00000803;
    /** Magic number of an IDX file of unsigned bytes with 1 dimension (labels). */
    public static final int LABELS_MAGIC = 0x00000801;
    /** Where the Debian package {@code dataset-fashion-mnist} installs the four {@code .gz} files. */
    public static final Path FASHION_MNIST_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    private static final int IMAGES_HEADER = 16;
    private static final int LABELS_HEADER = 8;
    private static final String REMEDY =
            "re-download the file, or reinstall its package (Fashion-MNIST: apt-get install --reinstall dataset-fashion-mnist)";

    private final Path imagesFile;
    private final Path labelsFile;
    private final byte[] images; // whole decompressed image file; pixels start at IMAGES_HEADER
    private final byte[] labels; // whole decompressed label file, or null; labels start at LABELS_HEADER
    private final int count;
    private final int rows;
    private final int cols;
    private final int numClasses;

    private IdxDataset(
            Path imagesFile,
            Path labelsFile,
            byte[] images,
            byte[] labels,
            int count,
            int rows,
            int cols,
            int numClasses) {
        this.imagesFile = imagesFile;
        this.labelsFile = labelsFile;
        this.images = images;
        this.labels = labels;
        this.count = count;
        this.rows = rows;
        this.cols = cols;
        this.numClasses = numClasses;
    }

    /**
     * Reads an IDX image file and, if given, its label file (each raw or gzipped).
     *
     * @param images       the {@code *-images-idx3-ubyte[.gz]} file
     * @param labelsOrNull the matching {@code *-labels-idx1-ubyte[.gz]} file, or null for an unlabelled set
     * @throws DatasetException if a file is missing, unreadable, truncated, of the wrong kind, or the counts
     *                          differ
     */
    public static IdxDataset open(Path images, Path labelsOrNull) {
        Objects.requireNonNull(images, "images");
        byte[] img = readMaybeGzipped(images);
        checkMagic(images, img, IMAGES_MAGIC);
        if (img.length < IMAGES_HEADER) {
            throw DatasetException.of(
                    images,
                    "truncated: an IDX image header needs " + IMAGES_HEADER + " bytes but the file has " + img.length,
                    REMEDY);
        }
        int n = readInt(img, 4);
        int rows = readInt(img, 8);
        int cols = readInt(img, 12);
        if (n < 0 || rows <= 0 || cols <= 0) {
            throw DatasetException.of(images, "corrupt header: " + n + " images of " + rows + "x" + cols, REMEDY);
        }
        long expected = (long) n * rows * cols;
        long actual = img.length - IMAGES_HEADER;
        if (actual < expected) {
            throw DatasetException.of(
                    images,
                    "truncated: header says " + n + " images of " + rows + "x" + cols + " but only " + actual
                            + " bytes of pixel data (expected " + expected + ")",
                    REMEDY);
        }
        if (actual > expected) {
            throw DatasetException.of(
                    images,
                    "corrupt: " + (actual - expected) + " bytes after the last of the " + n + " images of " + rows + "x"
                            + cols + " the header announces",
                    REMEDY);
        }

        byte[] lab = null;
        int numClasses = 0;
        if (labelsOrNull != null) {
            lab = readLabels(labelsOrNull, images, n);
            int max = -1;
            for (int i = LABELS_HEADER; i < lab.length; i++) {
                max = Math.max(max, lab[i] & 0xff);
            }
            numClasses = max + 1;
        }
        return new IdxDataset(images, labelsOrNull, img, lab, n, rows, cols, numClasses);
    }

    /**
     * Opens the Fashion-MNIST training ({@code train-*}, 60000 images) or test ({@code t10k-*}, 10000 images)
     * split from {@code dir}, e.g. {@link #FASHION_MNIST_DIR}. The {@code .gz} names are tried first, then the
     * uncompressed ones.
     *
     * @throws DatasetException if the directory or a file is missing or bad
     */
    public static IdxDataset fashionMnist(Path dir, boolean train) {
        if (!Files.isDirectory(dir)) {
            throw DatasetException.of(
                    dir,
                    "Fashion-MNIST directory not found",
                    "install it with 'apt-get install dataset-fashion-mnist' (files go to " + FASHION_MNIST_DIR
                            + ") or download the four *-ubyte.gz files from https://github.com/zalandoresearch/fashion-mnist"
                            + " into that directory");
        }
        String split = train ? "train" : "t10k";
        return open(findIdx(dir, split + "-images-idx3-ubyte"), findIdx(dir, split + "-labels-idx1-ubyte"));
    }

    /** {@code dir/<stem>.gz} if it exists, else {@code dir/<stem>} (whose absence {@link #open} reports). */
    private static Path findIdx(Path dir, String stem) {
        Path gz = dir.resolve(stem + ".gz");
        return Files.exists(gz) ? gz : dir.resolve(stem);
    }

    private static byte[] readLabels(Path labelsFile, Path imagesFile, int imageCount) {
        byte[] lab = readMaybeGzipped(labelsFile);
        checkMagic(labelsFile, lab, LABELS_MAGIC);
        if (lab.length < LABELS_HEADER) {
            throw DatasetException.of(
                    labelsFile,
                    "truncated: an IDX label header needs " + LABELS_HEADER + " bytes but the file has " + lab.length,
                    REMEDY);
        }
        int n = readInt(lab, 4);
        long actual = lab.length - LABELS_HEADER;
        if (n < 0 || actual < n) {
            throw DatasetException.of(
                    labelsFile,
                    "truncated: header says " + n + " labels but only " + actual + " bytes of label data",
                    REMEDY);
        }
        if (actual > n) {
            throw DatasetException.of(
                    labelsFile,
                    "corrupt: " + (actual - n) + " bytes after the last of the " + n + " labels the header announces",
                    REMEDY);
        }
        if (n != imageCount) {
            throw DatasetException.of(
                    labelsFile,
                    "has " + n + " labels but " + imagesFile + " has " + imageCount + " images",
                    "pass the label file that belongs to the image file (train-* with train-*, t10k-* with t10k-*)");
        }
        return lab;
    }

    private static void checkMagic(Path file, byte[] data, int expected) {
        if (data.length < 4) {
            throw DatasetException.of(
                    file, "truncated: " + data.length + " bytes, too short for an IDX magic number", REMEDY);
        }
        int magic = readInt(data, 0);
        if (magic == expected) {
            return;
        }
        String want = expected == IMAGES_MAGIC
                ? "an IDX image file (magic 0x00000803)"
                : "an IDX label file (magic 0x00000801)";
        String got = switch (magic) {
            case IMAGES_MAGIC -> "an IDX image file (magic 0x00000803)";
            case LABELS_MAGIC -> "an IDX label file (magic 0x00000801)";
            default -> String.format("not an IDX unsigned-byte file (magic 0x%08x)", magic);
        };
        throw DatasetException.of(
                file,
                "wrong magic number: this is " + got + " but " + want + " was expected",
                expected == IMAGES_MAGIC
                        ? "pass the *-images-idx3-ubyte[.gz] file as images (are images and labels swapped?)"
                        : "pass the *-labels-idx1-ubyte[.gz] file as labels (are images and labels swapped?)");
    }

    /** Reads the whole file, gunzipping it if it starts with the gzip magic 0x1f 0x8b. */
    private static byte[] readMaybeGzipped(Path file) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            raw.mark(2);
            boolean gzip = raw.read() == 0x1f && raw.read() == 0x8b;
            raw.reset();
            if (!gzip) {
                return raw.readAllBytes();
            }
            try (InputStream in = new GZIPInputStream(raw, 1 << 16)) {
                return in.readAllBytes();
            } catch (EOFException e) {
                throw DatasetException.of(file, "truncated: the gzip stream ends early", REMEDY, e);
            } catch (ZipException e) {
                throw DatasetException.of(file, "corrupt gzip data (" + e.getMessage() + ")", REMEDY, e);
            }
        } catch (NoSuchFileException e) {
            throw DatasetException.of(
                    file,
                    "file not found",
                    "check the path; Fashion-MNIST comes from 'apt-get install dataset-fashion-mnist' ("
                            + FASHION_MNIST_DIR + ") or https://github.com/zalandoresearch/fashion-mnist",
                    e);
        } catch (IOException e) {
            throw DatasetException.of(file, "cannot be read (" + e + ")", "check that it is a readable file", e);
        }
    }

    private static int readInt(byte[] b, int at) { // big-endian
        return (b[at] & 0xff) << 24 | (b[at + 1] & 0xff) << 16 | (b[at + 2] & 0xff) << 8 | (b[at + 3] & 0xff);
    }

    @Override
    public int size() {
        return count;
    }

    /** Rows (height) of every image. */
    public int rows() {
        return rows;
    }

    /** Columns (width) of every image. */
    public int cols() {
        return cols;
    }

    @Override
    public RgbImage image(int index) {
        Objects.checkIndex(index, count);
        return RgbImage.fromGray8(cols, rows, images, IMAGES_HEADER + index * rows * cols);
    }

    @Override
    public int label(int index) {
        Objects.checkIndex(index, count);
        return labels == null ? -1 : labels[LABELS_HEADER + index] & 0xff;
    }

    @Override
    public int numClasses() {
        return numClasses;
    }

    @Override
    public String describe() {
        return "IDX " + imagesFile + (labelsFile == null ? " (no labels)" : " + " + labelsFile.getFileName()) + ": "
                + count + " images " + cols + "x" + rows + ", " + numClasses + " classes";
    }

    @Override
    public String toString() {
        return describe();
    }
}
