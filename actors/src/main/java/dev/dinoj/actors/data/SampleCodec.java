package dev.dinoj.actors.data;

import dev.dinoj.pipeline.data.EncodedImages;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.RgbImage;

/**
 * Images for the wire. A dataset of stored files ({@link EncodedImages}: folders, curated sets) sends the bytes as
 * stored ({@link #ENCODED}; the receiver decodes them), so a 4000 × 3000 photo travels as its few MB of JPEG, not 36 MB
 * of planes. Other datasets (IDX, Fashion-MNIST: 28 × 28 grey) send 8-bit RGB planes ({@link #RGB8}), {@code round(v·255)}
 * per value: images decoded from 8-bit sources are exactly {@code k/255}, so that round trip is exact.
 */
public final class SampleCodec {
    /** Stored image bytes (JPEG, PNG, WebP, …). */
    public static final byte ENCODED = 0;
    /** 8-bit RGB planes of {@code width × height}. */
    public static final byte RGB8 = 1;

    private SampleCodec() {}

    /**
     * One sample ready for the wire.
     *
     * @param kind   {@link #ENCODED} or {@link #RGB8}
     * @param width  pixels per row ({@link #RGB8}; 0 for encoded bytes)
     * @param height rows ({@link #RGB8}; 0 for encoded bytes)
     * @param bytes  the payload
     */
    public record Wire(byte kind, int width, int height, byte[] bytes) {}

    /** Sample {@code index} of {@code ds} as it travels. */
    public static Wire of(ImageDataset ds, int index) {
        if (ds instanceof EncodedImages e) {
            return new Wire(ENCODED, 0, 0, e.encoded(index));
        }
        RgbImage img = ds.image(index);
        byte[] rgb = new byte[length(img.width(), img.height())];
        encode(img, rgb, 0);
        return new Wire(RGB8, img.width(), img.height(), rgb);
    }

    /** Bytes of one image's 8-bit planes. */
    public static int length(int width, int height) {
        return RgbImage.CHANNELS * width * height;
    }

    public static void encode(RgbImage img, byte[] out, int offset) {
        float[] chw = img.chw();
        for (int i = 0; i < chw.length; i++) {
            int v = Math.round(Math.max(0f, Math.min(1f, chw[i])) * 255f);
            out[offset + i] = (byte) v;
        }
    }

    public static RgbImage decode(int width, int height, byte[] in, int offset) {
        float[] chw = new float[length(width, height)];
        for (int i = 0; i < chw.length; i++) {
            chw[i] = (in[offset + i] & 0xff) / 255f;
        }
        return new RgbImage(width, height, chw);
    }
}
