package dev.dinoj.pipeline.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Images in a directory, in the layout of torchvision's {@code ImageFolder}.
 *
 * <ul>
 *   <li>With subdirectories: each subdirectory is a class; sorted subdirectory names get labels
 *       {@code 0..C-1}; the images of a class are found recursively and sorted by relative path. Image files
 *       directly in {@code dir} are then ignored (with a warning).</li>
 *   <li>Without subdirectories: the images in {@code dir}, sorted by name, unlabelled (label -1).</li>
 * </ul>
 * Images are png, jpg, jpeg, gif, bmp or webp (case-insensitive; the content decides the decoder); hidden files are
 * skipped. Each {@link #image} call decodes under a {@link PixelGuard} (over it: skipped, the next image takes its
 * place), upright by EXIF orientation, as 8-bit RGB with alpha dropped and grey expanded (PIL's
 * {@code convert("RGB")}). The file list is fixed at {@link #open}; the order is stable across runs.
 */
public final class ImageFolderDataset implements EncodedImages {
    private static final Logger log = LoggerFactory.getLogger(ImageFolderDataset.class);
    private static final Set<String> EXTENSIONS = Set.of("png", "jpg", "jpeg", "gif", "bmp", "webp");

    private final Path root;
    private final List<Path> files;
    private final int[] labels; // null when flat
    private final List<String> classes;
    private final PixelGuard guard;

    private ImageFolderDataset(Path root, List<Path> files, int[] labels, List<String> classes, PixelGuard guard) {
        this.root = root;
        this.guard = guard;
        this.files = files;
        this.labels = labels;
        this.classes = classes;
    }

    /**
     * Lists the images under {@code dir} (see the class comment for the layout).
     *
     * @throws DatasetException if {@code dir} is not a directory, cannot be listed, or holds no images
     */
    public static ImageFolderDataset open(Path dir) {
        return open(dir, PixelGuard.standard());
    }

    /**
     * Lists the images under {@code dir}; {@link #image} decodes under {@code guard}.
     *
     * @throws DatasetException if {@code dir} is not a directory, cannot be listed, holds no images, or has a class
     *     subdirectory without images
     */
    public static ImageFolderDataset open(Path dir, PixelGuard guard) {
        if (!Files.isDirectory(dir)) {
            throw DatasetException.of(
                    dir,
                    "image folder not found or not a directory",
                    "pass a directory of images, or of one subdirectory of images per class");
        }
        List<Path> entries = list(dir);
        List<Path> classDirs = entries.stream().filter(Files::isDirectory).toList();
        List<Path> topImages =
                entries.stream().filter(ImageFolderDataset::isImage).toList();
        List<Path> files = new ArrayList<>();
        int[] labels = null;
        List<String> classes = List.of();
        if (classDirs.isEmpty()) {
            files.addAll(topImages);
        } else {
            if (!topImages.isEmpty()) {
                log.warn(
                        "{}: ignoring [{}] image files outside the [{}] class subdirectories",
                        dir,
                        topImages.size(),
                        classDirs.size());
            }
            List<Integer> labelList = new ArrayList<>();
            for (int c = 0; c < classDirs.size(); c++) {
                List<Path> inClass = walk(classDirs.get(c));
                if (inClass.isEmpty()) { // as torchvision's ImageFolder: a class without images is an error
                    throw DatasetException.of(
                            classDirs.get(c),
                            "class folder without images (extensions " + EXTENSIONS + ")",
                            "put its images there or remove the folder");
                }
                files.addAll(inClass);
                for (int i = 0; i < inClass.size(); i++) {
                    labelList.add(c);
                }
            }
            labels = labelList.stream().mapToInt(Integer::intValue).toArray();
            classes = classDirs.stream().map(p -> p.getFileName().toString()).toList();
        }
        if (files.isEmpty()) {
            throw DatasetException.of(
                    dir,
                    "no images found (extensions " + EXTENSIONS + ")",
                    "check the path, or put the images (or class subdirectories of images) there");
        }
        return new ImageFolderDataset(dir, List.copyOf(files), labels, classes, guard);
    }

    /** Sorted, non-hidden entries of {@code dir}. */
    private static List<Path> list(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted()
                    .toList();
        } catch (IOException | UncheckedIOException e) {
            throw DatasetException.of(dir, "cannot be listed (" + e + ")", "check its permissions", e);
        }
    }

    /** Image files anywhere under {@code dir}, sorted by path (so by relative path). */
    private static List<Path> walk(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(p -> !isHidden(dir.relativize(p)))
                    .filter(ImageFolderDataset::isImage)
                    .sorted()
                    .toList();
        } catch (IOException | UncheckedIOException e) {
            throw DatasetException.of(dir, "cannot be listed (" + e + ")", "check its permissions", e);
        }
    }

    private static boolean isHidden(Path relative) {
        for (Path name : relative) {
            if (name.toString().startsWith(".")) {
                return true;
            }
        }
        return false;
    }

    private static boolean isImage(Path p) {
        String name = p.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return dot > 0
                && Files.isRegularFile(p)
                && EXTENSIONS.contains(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    @Override
    public int size() {
        return files.size();
    }

    /** The file of image {@code index}. */
    public Path file(int index) {
        return files.get(index);
    }

    /** Class names (subdirectory names) in label order; empty when the folder is flat. */
    public List<String> classes() {
        return classes;
    }

    @Override
    public RgbImage image(int index) {
        return guard.decode(encoded(index), files.get(index).toString());
    }

    @Override
    public byte[] encoded(int index) {
        Objects.checkIndex(index, files.size());
        return guard.firstWithin(
                index, files.size(), this::read, i -> files.get(i).toString(), root.toString());
    }

    private byte[] read(int index) {
        Path file = files.get(index);
        try {
            return Files.readAllBytes(file);
        } catch (IOException | RuntimeException e) {
            throw DatasetException.of(
                    file, "cannot be read (" + e.getMessage() + ")", "check that the file exists and is readable", e);
        }
    }

    @Override
    public PixelGuard guard() {
        return guard;
    }

    @Override
    public int label(int index) {
        Objects.checkIndex(index, files.size());
        return labels == null ? -1 : labels[index];
    }

    @Override
    public int numClasses() {
        return classes.size();
    }

    @Override
    public String describe() {
        return "image folder " + root + ": " + files.size() + " images, "
                + (classes.isEmpty() ? "unlabelled" : classes.size() + " classes");
    }

    @Override
    public String toString() {
        return describe();
    }
}
