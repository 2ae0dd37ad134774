package dev.dinoj.pipeline.ingest;

import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.embed.Embedder;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.SplittableRandom;

/** Test images and archives built in memory. */
public final class Fixtures {
    private Fixtures() {}

    /** A {@code w × h} RGB image with a pattern that depends on {@code seed}. */
    public static BufferedImage pattern(int w, int h, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int cx = rnd.nextInt(w);
        int cy = rnd.nextInt(h);
        int r0 = rnd.nextInt(256);
        int g0 = rnd.nextInt(256);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int d = Math.abs(x - cx) + Math.abs(y - cy);
                int r = (r0 + 7 * d) & 0xff;
                int g = (g0 + 3 * x) & 0xff;
                int b = (11 * y + d * d) & 0xff;
                img.setRGB(x, y, r << 16 | g << 8 | b);
            }
        }
        return img;
    }

    /** Uniform random pixels. */
    public static BufferedImage noise(int w, int h, long seed) {
        return PlantedPool.noise(w, h, seed);
    }

    public static byte[] encode(BufferedImage img, String format) {
        return ImageEncoding.encode(img, format);
    }

    public static byte[] png(BufferedImage img) {
        return ImageEncoding.png(img);
    }

    /** The first {@code keep} bytes. */
    public static byte[] truncate(byte[] data, int keep) {
        byte[] out = new byte[keep];
        System.arraycopy(data, 0, out, 0, keep);
        return out;
    }

    /** An IDX image file of {@code n} images of {@code rows × cols}, pixel value {@code (i * 31 + p) & 0xff}. */
    public static byte[] idx(int n, int rows, int cols) {
        ByteBuffer b = ByteBuffer.allocate(16 + n * rows * cols);
        b.putInt(0x00000803).putInt(n).putInt(rows).putInt(cols);
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < rows * cols; p++) {
                b.put((byte) ((i * 31 + p * (i % 5 + 1)) & 0xff));
            }
        }
        return b.array();
    }

    public static byte[] gzip(byte[] data) {
        return PlantedPool.gzip(data);
    }

    /** An embedder that counts its calls and can be slowed down or hooked; 4-d mean colour features. */
    public static class CountingEmbedder implements Embedder {
        public final java.util.concurrent.atomic.AtomicInteger images = new java.util.concurrent.atomic.AtomicInteger();
        public volatile long sleepMillis;
        public volatile Runnable hook;

        @Override
        public int dim() {
            return 4;
        }

        @Override
        public String id() {
            return "counting-test";
        }

        @Override
        public float[] embed(List<RgbImage> batch) {
            float[] out = new float[batch.size() * 4];
            for (int i = 0; i < batch.size(); i++) {
                RgbImage img = batch.get(i);
                int plane = img.planeSize();
                double[] m = new double[4];
                for (int c = 0; c < 3; c++) {
                    for (int p = 0; p < plane; p++) {
                        m[c] += img.chw()[c * plane + p];
                    }
                    m[c] /= plane;
                }
                m[3] = 1;
                double n = Math.sqrt(m[0] * m[0] + m[1] * m[1] + m[2] * m[2] + 1);
                for (int c = 0; c < 4; c++) {
                    out[i * 4 + c] = (float) (m[c] / n);
                }
            }
            images.addAndGet(batch.size());
            if (sleepMillis > 0) {
                try {
                    Thread.sleep(sleepMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            Runnable h = hook;
            if (h != null) {
                h.run();
            }
            return out;
        }
    }
}
