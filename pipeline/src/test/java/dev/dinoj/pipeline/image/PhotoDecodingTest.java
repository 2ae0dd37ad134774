package dev.dinoj.pipeline.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.pipeline.data.DatasetException;
import dev.dinoj.pipeline.data.ImageFolderDataset;
import dev.dinoj.pipeline.data.PixelGuard;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.ingest.Decoder;
import dev.dinoj.pipeline.ingest.IngestSettings;
import dev.dinoj.pipeline.ingest.ObjectState;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The encodings real photo collections hold, decoded to 8-bit RGB as PIL's {@code convert("RGB")} gives them. */
class PhotoDecodingTest {
    private static final IngestSettings S = IngestSettings.defaults();
    private static final int R = 0xff0000;
    private static final int G = 0x00ff00;
    private static final int B = 0x0000ff;
    private static final int W = 0xffffff;

    static RgbImage decode(byte[] data) {
        Decoder.Outcome o = Decoder.decode(data, S);
        assertInstanceOf(Decoder.Image.class, o, () -> o.toString());
        return ((Decoder.Image) o).image();
    }

    /** Channel values 0..255 of pixel (x, y). */
    static int[] rgb(RgbImage img, int x, int y) {
        return new int[] {
            Math.round(img.get(0, x, y) * 255), Math.round(img.get(1, x, y) * 255), Math.round(img.get(2, x, y) * 255)
        };
    }

    static void assertColour(int want, RgbImage img, int x, int y, int tolerance) {
        int[] got = rgb(img, x, y);
        int[] exp = {(want >> 16) & 0xff, (want >> 8) & 0xff, want & 0xff};
        for (int c = 0; c < 3; c++) {
            assertTrue(
                    Math.abs(got[c] - exp[c]) <= tolerance,
                    String.format("pixel (%d, %d): got %d,%d,%d, want %06x", x, y, got[0], got[1], got[2], want));
        }
    }

    @Test
    void shouldDecodeAnAdobeCmykJpegToItsRgbColours() {
        RgbImage img = decode(SyntheticPhotos.cmykJpeg(32, 16));
        assertEquals(32, img.width());
        assertColour(0x00ffff, img, 4, 8, 12); // cyan
        assertColour(0xffff00, img, 28, 8, 12); // yellow
    }

    /** Four quadrants: top-left red, top-right green, bottom-left blue, bottom-right white; 40 × 20 as stored. */
    static BufferedImage quadrants() {
        BufferedImage img = new BufferedImage(40, 20, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        int[][] q = {{R, G}, {B, W}};
        for (int row = 0; row < 2; row++) {
            for (int col = 0; col < 2; col++) {
                g.setColor(new Color(q[row][col]));
                g.fillRect(col * 20, row * 10, 20, 10);
            }
        }
        g.dispose();
        return img;
    }

    @ParameterizedTest(name = "EXIF orientation {0}")
    @CsvSource({
        "1, ff0000, 00ff00, 0000ff, ffffff",
        "2, 00ff00, ff0000, ffffff, 0000ff",
        "3, ffffff, 0000ff, 00ff00, ff0000",
        "4, 0000ff, ffffff, ff0000, 00ff00",
        "5, ff0000, 0000ff, 00ff00, ffffff",
        "6, 0000ff, ff0000, ffffff, 00ff00",
        "7, ffffff, 00ff00, 0000ff, ff0000",
        "8, 00ff00, ffffff, ff0000, 0000ff"
    })
    void shouldComeOutUprightWhateverTheExifOrientation(
            int orientation, String topLeft, String topRight, String bottomLeft, String bottomRight) {
        byte[] jpeg = SyntheticPhotos.withExifOrientation(SyntheticPhotos.jpeg(quadrants(), 0.95f, false), orientation);
        assertEquals(orientation, ExifOrientation.of(jpeg, "jpeg"));
        RgbImage img = decode(jpeg);
        boolean turned = orientation >= 5;
        assertEquals(turned ? 20 : 40, img.width());
        assertEquals(turned ? 40 : 20, img.height());
        int w = img.width();
        int h = img.height();
        assertColour(Integer.parseInt(topLeft, 16), img, w / 4, h / 4, 40);
        assertColour(Integer.parseInt(topRight, 16), img, 3 * w / 4, h / 4, 40);
        assertColour(Integer.parseInt(bottomLeft, 16), img, w / 4, 3 * h / 4, 40);
        assertColour(Integer.parseInt(bottomRight, 16), img, 3 * w / 4, 3 * h / 4, 40);
    }

    @Test
    void shouldDecodeProgressiveJpegLikeBaseline() {
        BufferedImage scene = SyntheticPhotos.scene(120, 90, 1, 7);
        RgbImage progressive = decode(SyntheticPhotos.jpeg(scene, 0.75f, true));
        RgbImage baseline = decode(SyntheticPhotos.jpeg(scene, 0.75f, false));
        assertEquals(baseline.width(), progressive.width());
        double diff = 0;
        for (int i = 0; i < baseline.chw().length; i++) {
            diff += Math.abs(baseline.chw()[i] - progressive.chw()[i]);
        }
        assertTrue(diff / baseline.chw().length < 0.05, "mean difference " + diff / baseline.chw().length);
    }

    @Test
    void shouldDecodeLosslessWebp() {
        byte[] webp = SyntheticPhotos.twoColourWebp(12, 8);
        assertEquals("webp", ImageFormat.sniff(webp));
        RgbImage img = decode(webp);
        assertEquals(12, img.width());
        assertEquals(8, img.height());
        assertColour(R, img, 1, 1, 0);
        assertColour(B, img, 10, 7, 0);
    }

    @Test
    void shouldConvertPngVariantsTo8BitRgbAsPilDoes() {
        // 16-bit grey: the high byte
        BufferedImage grey16 = new BufferedImage(8, 8, BufferedImage.TYPE_USHORT_GRAY);
        grey16.getRaster().setSample(2, 3, 0, 0x8040);
        RgbImage g = decode(SyntheticPhotos.encode(grey16, "png"));
        assertColour(0x808080, g, 2, 3, 0);
        assertColour(0x000000, g, 0, 0, 0);
        // alpha dropped, not composited: a fully transparent red pixel stays red
        BufferedImage argb = new BufferedImage(8, 8, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(1, 1, 0x00ff0000);
        argb.setRGB(2, 2, 0x800000ff);
        RgbImage a = decode(SyntheticPhotos.encode(argb, "png"));
        assertColour(R, a, 1, 1, 0);
        assertColour(B, a, 2, 2, 0);
        // palette with a transparent entry: the palette colour
        byte[] reds = {(byte) 255, 0};
        byte[] greens = {0, (byte) 200};
        byte[] blues = {0, 0};
        byte[] alphas = {0, (byte) 255};
        BufferedImage indexed = new BufferedImage(
                8, 8, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(8, 2, reds, greens, blues, alphas));
        indexed.getRaster().setSample(3, 4, 0, 1);
        RgbImage p = decode(SyntheticPhotos.encode(indexed, "png"));
        assertColour(R, p, 0, 0, 0);
        assertColour(0x00c800, p, 3, 4, 0);
    }

    @Test
    void shouldDecodeGifAndBmp() {
        BufferedImage scene = SyntheticPhotos.scene(30, 20, 2, 1);
        BufferedImage rgb = new BufferedImage(30, 20, BufferedImage.TYPE_3BYTE_BGR);
        rgb.getGraphics().drawImage(scene, 0, 0, null);
        RgbImage bmp = decode(SyntheticPhotos.encode(rgb, "bmp"));
        assertColour(scene.getRGB(5, 5) & 0xffffff, bmp, 5, 5, 0);
        RgbImage gif = decode(SyntheticPhotos.encode(rgb, "gif"));
        assertEquals(30, gif.width());
    }

    @Test
    void shouldCountAnUnsupportedFormatUnderItsOwnState() {
        byte[] tiff = {'I', 'I', 42, 0, 8, 0, 0, 0, 0, 0};
        Decoder.Outcome o = Decoder.decode(tiff, S);
        Decoder.Rejected r = assertInstanceOf(Decoder.Rejected.class, o);
        assertEquals(ObjectState.NOT_AN_IMAGE, r.state());
    }

    @Test
    void shouldSkipAnImageOverThePixelGuardAndGiveTheNextOneInItsPlace(@TempDir Path dir) throws Exception {
        Files.write(dir.resolve("a-bomb.png"), SyntheticPhotos.blankPng(9000, 9000));
        Files.write(dir.resolve("b-photo.jpg"), SyntheticPhotos.jpeg(SyntheticPhotos.scene(64, 48, 0, 3), 0.9f, false));
        ImageFolderDataset ds = ImageFolderDataset.open(dir, new PixelGuard(PixelGuard.DEFAULT_MAX_PIXELS));
        RgbImage first = ds.image(0);
        assertEquals(64, first.width(), "the 9000 x 9000 PNG is never decoded; the next image takes its place");
        assertEquals(1, ds.guard().skipped());
        assertEquals(64, ds.image(1).width());
        ds.image(0);
        assertEquals(1, ds.guard().skipped(), "counted once per image");
        assertEquals(1, ds.used(0), "what belongs to image 0 follows the image read in its place");
        assertEquals(1, ds.used(1));
        ImageFolderDataset fresh = ImageFolderDataset.open(dir, new PixelGuard(PixelGuard.DEFAULT_MAX_PIXELS));
        assertEquals(1, fresh.used(0), "known from the headers, before any image is decoded");
        // every image over the guard: one clear line
        ImageFolderDataset tight = ImageFolderDataset.open(dir, new PixelGuard(100));
        DatasetException e = assertThrows(DatasetException.class, () -> tight.image(1));
        assertTrue(e.getMessage().contains("every image is over the pixel guard"), e.getMessage());
    }

    @Test
    void theFlatPngGeneratorShouldWriteOneColour() {
        RgbImage img = decode(SyntheticPhotos.flatPng(50, 40, 0x4080c0));
        assertEquals(50, img.width());
        assertEquals(40, img.height());
        assertColour(0x4080c0, img, 49, 39, 0);
        assertTrue(SyntheticPhotos.flatPng(9000, 9000, 0x4080c0).length < 400_000, "9000 x 9000 in a few hundred KB");
    }

    @Test
    void shouldNameAnEmptyClassFolder(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("cats"));
        Files.createDirectories(dir.resolve("dogs"));
        Files.write(dir.resolve("cats/a.png"), SyntheticPhotos.encode(SyntheticPhotos.scene(16, 16, 0, 0), "png"));
        DatasetException e = assertThrows(DatasetException.class, () -> ImageFolderDataset.open(dir));
        assertTrue(e.getMessage().contains("dogs"), e.getMessage());
        assertTrue(e.getMessage().contains("class folder without images"), e.getMessage());
    }
}
