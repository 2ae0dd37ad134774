package dev.dinoj.pipeline.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DecoderTest {
    private static final IngestSettings S = IngestSettings.defaults();

    @Test
    void shouldDecodeEveryFormatByItsMagicBytes() {
        BufferedImage img = Fixtures.pattern(40, 30, 1);
        for (String fmt : new String[] {"png", "jpeg", "gif", "bmp"}) {
            Decoder.Image d = assertInstanceOf(Decoder.Image.class, Decoder.decode(Fixtures.encode(img, fmt), S), fmt);
            assertEquals(fmt, d.format());
            assertEquals(40, d.width());
            assertEquals(30, d.height());
            assertEquals(40, d.image().width());
        }
        Decoder.Image png = (Decoder.Image) Decoder.decode(Fixtures.png(img), S);
        int rgb = img.getRGB(5, 7);
        assertEquals(((rgb >> 16) & 0xff) / 255f, png.image().get(0, 5, 7), 1e-6, "PNG is lossless");
    }

    @Test
    void shouldClassifyBadObjectsWithoutThrowing() {
        byte[] png = Fixtures.png(Fixtures.pattern(64, 64, 2));
        assertState(ObjectState.CORRUPT, Decoder.decode(new byte[0], S));
        assertState(ObjectState.CORRUPT, Decoder.decode(Fixtures.truncate(png, png.length / 2), S));
        assertState(ObjectState.CORRUPT, Decoder.decode(Fixtures.truncate(png, 20), S));
        Decoder.Rejected text = assertState(
                ObjectState.NOT_AN_IMAGE,
                Decoder.decode("just some text, not an image\n".getBytes(StandardCharsets.UTF_8), S));
        assertTrue(text.detail().contains("text"), text.detail());
        assertState(ObjectState.NOT_AN_IMAGE, Decoder.decode(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, S));
        assertState(
                ObjectState.CORRUPT, Decoder.decode(Fixtures.truncate(Fixtures.gzip(Fixtures.idx(3, 28, 28)), 30), S));
    }

    @Test
    void shouldGuardAgainstHugeImagesAndDecompressionBombsBeforeDecoding() {
        byte[] png = Fixtures.png(Fixtures.pattern(300, 200, 3));
        IngestSettings tight = S.withLimits(S.maxObjectBytes(), 1 << 20, 50_000);
        Decoder.Rejected big = assertState(ObjectState.TOO_LARGE, Decoder.decode(png, tight));
        assertTrue(big.detail().contains("60000"), big.detail());
        byte[] bomb = Fixtures.gzip(new byte[8 << 20]); // 8 MiB of zeros, ~8 KB compressed
        assertTrue(bomb.length < 64 << 10);
        assertState(ObjectState.TOO_LARGE, Decoder.decode(bomb, tight));
        // an IDX archive of more members than allowed (each would be a manifest line and an embedding)
        byte[] many = Fixtures.gzip(Fixtures.idx(5000, 8, 8));
        Decoder.Rejected members =
                assertState(ObjectState.TOO_LARGE, Decoder.decode(many, S.withMaxArchiveMembers(4999)));
        assertTrue(members.detail().contains("5000 images exceeds max-archive-members 4999"), members.detail());
        assertTrue(Decoder.decode(many, S.withMaxArchiveMembers(5000)) instanceof Decoder.Archive);
    }

    @Test
    void shouldFilterTinyImagesAndSubsampleLargeOnes() {
        assertState(ObjectState.FILTERED, Decoder.decode(Fixtures.png(Fixtures.pattern(5, 40, 4)), S));
        Decoder.Image d = (Decoder.Image) Decoder.decode(Fixtures.png(Fixtures.pattern(1000, 600, 5)), S);
        assertEquals(1000, d.width(), "the manifest keeps the file's size");
        assertTrue(d.image().width() <= S.decodeMaxSide(), "decoded at most decode-max-side wide: " + d.image());
    }

    @Test
    void shouldExpandIdxArchivesGzippedOrNot() {
        byte[] idx = Fixtures.idx(7, 28, 28);
        for (byte[] data : new byte[][] {idx, Fixtures.gzip(idx)}) {
            Decoder.Archive a = assertInstanceOf(Decoder.Archive.class, Decoder.decode(data, S));
            assertEquals(7, a.count());
            assertEquals(28, a.member(3).width());
            assertEquals(
                    ((3 * 31 + 10 * (3 % 5 + 1)) & 0xff) / 255f, a.member(3).get(1, 10, 0), 1e-6);
            assertTrue(!a.memberSha(1).equals(a.memberSha(2)));
        }
        assertState(ObjectState.CORRUPT, Decoder.decode(Fixtures.truncate(idx, idx.length - 5), S));
    }

    private static Decoder.Rejected assertState(ObjectState want, Decoder.Outcome o) {
        Decoder.Rejected r = assertInstanceOf(Decoder.Rejected.class, o, String.valueOf(o));
        assertEquals(want, r.state(), r.detail());
        return r;
    }
}
