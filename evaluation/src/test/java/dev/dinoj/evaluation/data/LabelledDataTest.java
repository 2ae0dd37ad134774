package dev.dinoj.evaluation.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.evaluation.features.EvalDataset;
import dev.dinoj.evaluation.transform.EvalTransform;
import dev.dinoj.pipeline.data.DatasetException;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.image.PhotoFolders;
import dev.dinoj.pipeline.image.SyntheticPhotos;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.testkit.CuratedSets;
import dev.dinoj.trainer.config.DatasetSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LabelledDataTest {

    private static final List<String> CLASSES = List.of("circles", "rectangles", "triangles");
    private static final Config APP = ConfigFactory.load();

    private static EvalDataset open(String spec) {
        return LabelledData.open(
                DatasetSpec.parse(spec, Path.of("/nonexistent")), StorageSettings.fromConfig(APP), APP);
    }

    private static int[] labels(EvalDataset d) {
        int[] out = new int[d.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = d.images().label(i);
        }
        return out;
    }

    @Test
    void folderShouldNameClassesByFolderTakeThemInTurnAndFingerprintTheContent(@TempDir Path tmp) throws Exception {
        Path dir = PhotoFolders.write(tmp.resolve("train"), CLASSES, 3, 1);
        EvalDataset d = open("folder:" + dir);
        assertEquals(CLASSES, d.classes());
        assertEquals(9, d.size());
        assertEquals(3, d.images().numClasses());
        assertArrayEquals(new int[] {0, 1, 2, 0, 1, 2, 0, 1, 2}, labels(d), "every class in turn");
        assertEquals("triangles", d.className(2));
        assertTrue(d.id().startsWith("folder:" + dir.toAbsolutePath().normalize() + "@"), d.id());
        assertEquals(d.id(), open("folder:" + dir).id(), "same files, same id");

        Files.write(
                dir.resolve("circles/extra.png"), SyntheticPhotos.encode(SyntheticPhotos.scene(320, 320, 0, 9), "png"));
        EvalDataset more = open("folder:" + dir);
        assertNotEquals(d.id(), more.id(), "a new file changes the id, so cached features are not reused");
        assertEquals(10, more.size());
    }

    @Test
    void transformedPhotosShouldBeCropsOfTheCropSize(@TempDir Path tmp) {
        Path dir = PhotoFolders.write(tmp.resolve("train"), CLASSES, 2, 2);
        EvalDataset d = open("folder:" + dir).transformed(new EvalTransform(37, 32));
        assertEquals(32, d.side());
        assertTrue(d.id().endsWith("|resize37-crop32"), d.id());
        for (int i = 0; i < d.size(); i++) {
            RgbImage img = d.images().image(i);
            assertEquals(32, img.width());
            assertEquals(32, img.height());
        }
        assertEquals(CLASSES, d.classes());
    }

    @Test
    void testClassesShouldBeMatchedToTheTrainingClassesByName(@TempDir Path tmp) {
        Path testDir = PhotoFolders.write(tmp.resolve("test"), List.of("rectangles", "triangles"), List.of(1, 2), 2, 3);
        EvalDataset test = open("folder:" + testDir);
        assertArrayEquals(new int[] {0, 1, 0, 1}, labels(test));
        EvalDataset aligned = test.labelledAs(CLASSES);
        assertArrayEquals(new int[] {1, 2, 1, 2}, labels(aligned));
        assertEquals(CLASSES, aligned.classes());
        assertEquals(3, aligned.images().numClasses());
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> test.labelledAs(List.of("circles", "rectangles")));
        assertTrue(e.getMessage().contains("\"triangles\""), e.getMessage());
    }

    @Test
    void foldersWithoutLabelsOrWithAnEmptyClassShouldBeRefusedByName(@TempDir Path tmp) throws Exception {
        Path flat = Files.createDirectories(tmp.resolve("flat"));
        Files.write(flat.resolve("a.png"), SyntheticPhotos.encode(SyntheticPhotos.scene(320, 320, 0, 1), "png"));
        DatasetException noClasses = assertThrows(DatasetException.class, () -> open("folder:" + flat));
        assertTrue(noClasses.getMessage().contains("no class sub-folders"), noClasses.getMessage());

        Path dir = PhotoFolders.write(tmp.resolve("train"), CLASSES, 1, 4);
        Path empty = Files.createDirectories(dir.resolve("squares"));
        DatasetException e = assertThrows(DatasetException.class, () -> open("folder:" + dir));
        assertTrue(e.getMessage().contains(empty.toString()), e.getMessage());

        Path missing = tmp.resolve("missing");
        DatasetException m = assertThrows(DatasetException.class, () -> open("folder:" + missing));
        assertTrue(m.getMessage().contains(missing.toString()), m.getMessage());
    }

    @Test
    void curatedSetsShouldTakeTheirClassesFromTheSourceFolders(@TempDir Path tmp) throws Exception {
        String[] keys = {"photos/cat/1.jpg", "photos/dog/2.png", "photos/cat/3.jpg", "photos/ant/4.jpg"};
        byte[][] images = new byte[keys.length][];
        for (int i = 0; i < keys.length; i++) {
            images[i] = SyntheticPhotos.encode(SyntheticPhotos.scene(64, 48, i % 3, i), "png");
        }
        Path root = CuratedSets.write(tmp.resolve("curated"), keys, images);

        EvalDataset d = open("curated:" + root);
        assertEquals(List.of("ant", "cat", "dog"), d.classes());
        // by class: ant {3}, cat {0, 2}, dog {1}; in turn: 3, 0, 1, 2
        assertArrayEquals(new int[] {0, 1, 2, 1}, labels(d));
        assertTrue(d.id().startsWith("curated:" + root + "@"), d.id());

        assertEquals("cat", CuratedLabels.classOf("photos/cat/1.jpg"));
        assertEquals("x", CuratedLabels.classOf("x/pack.tar.gz#12"));
        assertNull(CuratedLabels.classOf("top.jpg"));
        assertNull(CuratedLabels.classOf("pack.tar#3"));
    }

    @Test
    void aLabelShouldFollowTheImageThatTakesTheSkippedOnesPlace(@TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("photos");
        for (String c : CLASSES) {
            Files.createDirectories(dir.resolve(c));
        }
        byte[] rectangle = SyntheticPhotos.encode(SyntheticPhotos.scene(64, 48, 1, 2), "png");
        Files.write(dir.resolve("circles/a.png"), SyntheticPhotos.encode(SyntheticPhotos.scene(64, 48, 0, 1), "png"));
        Files.write(dir.resolve("circles/b-bomb.png"), SyntheticPhotos.blankPng(9000, 9000)); // over the 25 Mpx guard
        Files.write(dir.resolve("rectangles/a.png"), rectangle);
        Files.write(dir.resolve("triangles/a.png"), SyntheticPhotos.encode(SyntheticPhotos.scene(64, 48, 2, 3), "png"));
        // stored 0 circles/a, 1 circles/b-bomb, 2 rectangles/a, 3 triangles/a; in turn: 0, 2, 3, 1. The bomb at view
        // index 3 is skipped and rectangles/a (the next of the set) read in its place: its label is rectangles'
        EvalDataset d = open("folder:" + dir);
        assertArrayEquals(new int[] {0, 1, 2, 1}, labels(d), "labels asked before any image was read");
        EvalDataset read = open("folder:" + dir);
        RgbImage replaced = read.images().image(3);
        assertArrayEquals(read.images().image(1).chw(), replaced.chw(), "rectangles/a read in the bomb's place");
        assertEquals(1, read.images().label(3));
        assertArrayEquals(
                new int[] {1, 2, 3, 2},
                labels(open("folder:" + dir).labelledAs(List.of("ants", "circles", "rectangles", "triangles"))),
                "and through the training classes' labels");

        Path curated = CuratedSets.write(
                tmp.resolve("curated"),
                new String[] {"photos/ant/1.png", "photos/cat/2.png"},
                new byte[][] {SyntheticPhotos.blankPng(9000, 9000), rectangle});
        EvalDataset c = open("curated:" + curated);
        assertEquals(List.of("ant", "cat"), c.classes());
        assertArrayEquals(new int[] {1, 1}, labels(c), "the cat read in the ant's place is labelled cat");
    }

    @Test
    void idxShouldFindItsLabelsFileBesideIt(@TempDir Path tmp) throws Exception {
        Path images = tmp.resolve("train-images-idx3-ubyte");
        byte[] img = new byte[16 + 2 * 4 * 4];
        img[3] = 0x03;
        img[2] = 0x08;
        img[7] = 2;
        img[11] = 4;
        img[15] = 4;
        DatasetException missing = assertThrows(DatasetException.class, () -> open("idx:" + images));
        assertTrue(missing.getMessage().contains("no such file"), missing.getMessage());
        Files.write(images, img);
        DatasetException none = assertThrows(DatasetException.class, () -> open("idx:" + images));
        assertTrue(none.getMessage().contains("no labels file"), none.getMessage());
        Files.write(tmp.resolve("train-labels-idx1-ubyte"), new byte[] {0, 0, 8, 1, 0, 0, 0, 2, 1, 0});
        EvalDataset d = open("idx:" + images);
        assertArrayEquals(new int[] {1, 0}, labels(d));
        assertTrue(d.id().startsWith("idx:" + images.toAbsolutePath().normalize() + "@"), d.id());
    }
}
