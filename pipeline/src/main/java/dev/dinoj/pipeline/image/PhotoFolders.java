package dev.dinoj.pipeline.image;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

/**
 * Labelled photo folders as torchvision's {@code ImageFolder} reads them, written deterministically from
 * {@link SyntheticPhotos#scene}: one sub-folder per class name, class {@code c}'s images being scenes of class {@code c}
 * (shapes and hues differ by class), 320–640 px on each side, as PNG, baseline JPEG and progressive JPEG in turn.
 */
public final class PhotoFolders {
    private PhotoFolders() {}

    /**
     * Writes {@code perClass} photos into {@code dir/<classes[c]>/}, scenes of class {@code c}, for each class.
     *
     * @param dir the folder (created)
     * @param classes the class folder names; the index is the scene's class
     * @param perClass photos per class
     * @param seed varies sizes, placement and encodings
     * @return {@code dir}
     */
    public static Path write(Path dir, List<String> classes, int perClass, long seed) {
        return write(dir, classes, IntStream.range(0, classes.size()).boxed().toList(), perClass, seed);
    }

    /**
     * Writes {@code perClass} photos into {@code dir/<classes[i]>/}, scenes of class {@code scenes[i]}, for each
     * class: a test set with some of a training set's classes keeps their scenes.
     *
     * @param dir the folder (created)
     * @param classes the class folder names
     * @param scenes the scene class of each folder
     * @param perClass photos per class
     * @param seed varies sizes, placement and encodings
     * @return {@code dir}
     */
    public static Path write(Path dir, List<String> classes, List<Integer> scenes, int perClass, long seed) {
        try {
            for (int k = 0; k < classes.size(); k++) {
                Path classDir = Files.createDirectories(dir.resolve(classes.get(k)));
                int c = scenes.get(k);
                for (int i = 0; i < perClass; i++) {
                    Random r = new Random(seed * 7919L + c * 104_729L + i);
                    BufferedImage img =
                            SyntheticPhotos.scene(320 + r.nextInt(321), 320 + r.nextInt(321), c, r.nextLong());
                    int kind = (i + c) % 3;
                    byte[] bytes =
                            kind == 0 ? SyntheticPhotos.encode(img, "png") : SyntheticPhotos.jpeg(img, 0.9f, kind == 2);
                    Files.write(classDir.resolve(String.format("%03d.%s", i, kind == 0 ? "png" : "jpg")), bytes);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
        }
        return dir;
    }
}
