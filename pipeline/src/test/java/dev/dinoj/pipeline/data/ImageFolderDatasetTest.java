package dev.dinoj.pipeline.data;

import static dev.dinoj.pipeline.data.IdxDatasetTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFolderDatasetTest {
    @TempDir
    Path dir;

    private static void png(Path file, int w, int h, int rgb) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, rgb);
            }
        }
        Files.createDirectories(file.getParent());
        ImageIO.write(img, "png", file.toFile());
    }

    @Test
    void shouldLabelSortedClassFoldersAndSortFiles() throws IOException {
        png(dir.resolve("zebra/b.png"), 3, 2, 0x0000ff);
        png(dir.resolve("zebra/a.PNG"), 3, 2, 0x00ff00);
        png(dir.resolve("ant/x/deep.png"), 4, 4, 0xff0000);
        Files.writeString(dir.resolve("ant/notes.txt"), "ignored");
        png(dir.resolve("ant/.hidden.png"), 1, 1, 0);
        png(dir.resolve("stray.png"), 1, 1, 0); // outside the class folders: ignored
        ImageFolderDataset ds = ImageFolderDataset.open(dir);
        assertEquals(List.of("ant", "zebra"), ds.classes());
        assertEquals(3, ds.size());
        assertEquals(2, ds.numClasses());
        assertEquals(List.of(0, 1, 1), List.of(ds.label(0), ds.label(1), ds.label(2)));
        assertEquals("deep.png", ds.file(0).getFileName().toString());
        assertEquals("a.PNG", ds.file(1).getFileName().toString());
        RgbImage red = ds.image(0);
        assertEquals(4, red.width());
        assertEquals(1f, red.get(0, 3, 3));
        assertEquals(0f, red.get(1, 3, 3));
        RgbImage blue = ds.image(2);
        assertEquals(3, blue.width());
        assertEquals(2, blue.height());
        assertEquals(1f, blue.get(2, 0, 1));
    }

    @Test
    void shouldReadFlatFolderUnlabelled() throws IOException {
        png(dir.resolve("2.png"), 2, 2, 0x808080);
        png(dir.resolve("1.png"), 2, 2, 0x101010);
        ImageFolderDataset ds = ImageFolderDataset.open(dir);
        assertEquals(2, ds.size());
        assertEquals(-1, ds.label(0));
        assertEquals(0, ds.numClasses());
        assertEquals(0x10 / 255f, ds.image(0).get(1, 1, 1));
    }

    @Test
    void shouldKeepGrayValuesExact() throws IOException {
        BufferedImage gray = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSample(0, 0, 0, 100);
        gray.getRaster().setSample(1, 0, 0, 200);
        ImageIO.write(gray, "png", dir.resolve("g.png").toFile());
        RgbImage img = ImageFolderDataset.open(dir).image(0);
        for (int c = 0; c < 3; c++) {
            assertEquals(100 / 255f, img.get(c, 0, 0));
            assertEquals(200 / 255f, img.get(c, 1, 0));
        }
    }

    @Test
    void shouldExplainUndecodableImage() throws IOException {
        Path bad = dir.resolve("broken.jpg");
        Files.writeString(bad, "this is not a jpeg");
        ImageFolderDataset ds = ImageFolderDataset.open(dir);
        DatasetException e = assertThrows(DatasetException.class, () -> ds.image(0));
        assertMessage(e, bad.toString(), "cannot be decoded", "replace or delete the file");
    }

    @Test
    void shouldExplainMissingOrEmptyFolder() {
        assertMessage(
                assertThrows(DatasetException.class, () -> ImageFolderDataset.open(dir.resolve("nope"))),
                "nope",
                "not found");
        assertMessage(
                assertThrows(DatasetException.class, () -> ImageFolderDataset.open(dir)),
                dir.toString(),
                "no images found");
    }
}
