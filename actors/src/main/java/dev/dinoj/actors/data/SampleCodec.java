package dev.dinoj.actors.data;

import dev.dinoj.pipeline.data.RgbImage;

/**
 * Images as 8-bit RGB planes for the wire: {@code round(v·255)} per value. Images decoded from 8-bit sources (IDX,
 * PNG, JPEG) are exactly {@code k/255}, so the round trip is exact for them.
 */
public final class SampleCodec {

    private SampleCodec() {}

    /** Bytes of one image. */
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
