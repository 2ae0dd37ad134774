package dev.dinoj.pipeline.curate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.actor.ActorSystem;
import com.typesafe.config.ConfigFactory;
import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.embed.PixelEmbedder;
import dev.dinoj.pipeline.embed.ThumbnailEmbedder;
import dev.dinoj.pipeline.image.SyntheticPhotos;
import dev.dinoj.pipeline.ingest.Decoder;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageSettings;
import dev.dinoj.pipeline.storage.StorageUri;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code curate} stores large photos re-encoded for training ({@code curate.store.max-side}): upright, shorter side at
 * the limit, JPEG, with the source's key, SHA-256, format, size and dimensions in the index; small images keep their
 * source bytes.
 */
@Timeout(300)
class CuratedStoreTest {

    /** A landscape photo, left half red and right half blue, stored rotated with EXIF orientation 6. */
    static byte[] sidewaysPhoto(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(Color.RED);
        g.fillRect(0, 0, w / 2, h);
        g.setColor(Color.BLUE);
        g.fillRect(w / 2, 0, w - w / 2, h);
        g.dispose();
        return SyntheticPhotos.withExifOrientation(SyntheticPhotos.jpeg(img, 0.9f, false), 6);
    }

    @Test
    void shouldStoreLargePhotosUprightAtTheMaxSideAndKeepSmallOnesAsTheyCame(@TempDir Path tmp) throws Exception {
        Path pool = Files.createDirectories(tmp.resolve("pool"));
        byte[] big = sidewaysPhoto(3000, 2000); // upright: 2000 x 3000, left (red) at the top
        byte[] small = SyntheticPhotos.encode(SyntheticPhotos.scene(300, 200, 1, 2), "png");
        byte[] cmyk = SyntheticPhotos.cmykJpeg(1200, 800);
        Files.write(pool.resolve("a-big.jpg"), big);
        Files.write(pool.resolve("b-small.png"), small);
        Files.write(pool.resolve("c-cmyk.jpg"), cmyk);
        Path out = tmp.resolve("curated");
        StorageSettings ss = StorageSettings.defaults();
        ActorSystem system = ObjectStores.createSystem("CuratedStoreTest", ConfigFactory.load(), ss);
        try {
            CurateJob.run(
                    system,
                    new CurateJob.Spec(
                            StorageUri.parse(pool.toString()),
                            null,
                            StorageUri.parse(out.toString()),
                            tmp.resolve("w"),
                            3),
                    new ThumbnailEmbedder(20),
                    new PixelEmbedder(28),
                    CurationSettings.defaults().withStore(new StoreSettings(256, 90)),
                    ss,
                    line -> {},
                    null);
        } finally {
            ObjectStores.terminate(system);
        }
        try (CuratedDataset ds = CuratedDataset.open(out)) {
            assertEquals(3, ds.size());
            Map<String, Integer> at = new HashMap<>();
            for (int i = 0; i < ds.size(); i++) {
                at.put(ds.entry(i).key(), i);
            }
            CuratedIndexEntry e = ds.entry(at.get("a-big.jpg"));
            assertEquals("jpeg", e.format());
            assertEquals(256, e.width());
            assertEquals(384, e.height(), "upright: 2000 x 3000 becomes 256 x 384");
            assertEquals(new CuratedIndexEntry.Source("jpeg", big.length, 3000, 2000), e.source());
            assertEquals(Decoder.sha256(big), e.sha256(), "the index keeps the source's SHA-256");
            assertTrue(e.length() < big.length / 4, "re-encoded: " + e.length() + " of " + big.length + " bytes");
            RgbImage img = ds.image(at.get("a-big.jpg"));
            assertEquals(256, img.width());
            assertTrue(img.get(0, 128, 40) > 0.8f && img.get(2, 128, 40) < 0.2f, "red on top");
            assertTrue(img.get(2, 128, 340) > 0.8f && img.get(0, 128, 340) < 0.2f, "blue at the bottom");

            CuratedIndexEntry s = ds.entry(at.get("b-small.png"));
            assertNull(s.source(), "a small image keeps its source bytes");
            assertEquals("png", s.format());
            assertArrayEquals(small, ds.bytes(at.get("b-small.png")));
            assertEquals(300, s.width());

            CuratedIndexEntry c = ds.entry(at.get("c-cmyk.jpg"));
            assertNotNull(c.source());
            assertEquals(384, c.width());
            assertEquals(256, c.height());
            RgbImage ci = ds.image(at.get("c-cmyk.jpg"));
            assertTrue(ci.get(0, 20, 128) < 0.1f && ci.get(1, 20, 128) > 0.9f, "cyan stays cyan once stored as RGB");
        }
    }
}
