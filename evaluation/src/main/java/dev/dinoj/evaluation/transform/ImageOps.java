package dev.dinoj.evaluation.transform;

import dev.dinoj.pipeline.data.RgbImage;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.random.RandomGenerator;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Deterministic image transforms on {@link RgbImage}s (CHW floats in [0, 1]) for the copy-detection copies and
 * the corrupted test sets: crop, resize, flip, brightness, contrast, Gaussian noise, Gaussian blur and a JPEG
 * round trip. Every result is clamped to [0, 1]; randomness comes only from the generator passed in.
 */
public final class ImageOps {

    private ImageOps() {}

    /** Bilinear resize (half-pixel centres, as PyTorch's {@code align_corners=False}, no antialiasing). */
    public static RgbImage resize(RgbImage img, int width, int height) {
        int w = img.width();
        int h = img.height();
        float[] src = img.chw();
        float[] out = new float[3 * width * height];
        for (int y = 0; y < height; y++) {
            double sy = Math.max(0, (y + 0.5) * h / height - 0.5);
            int y0 = Math.min((int) sy, h - 1);
            int y1 = Math.min(y0 + 1, h - 1);
            double fy = sy - y0;
            for (int x = 0; x < width; x++) {
                double sx = Math.max(0, (x + 0.5) * w / width - 0.5);
                int x0 = Math.min((int) sx, w - 1);
                int x1 = Math.min(x0 + 1, w - 1);
                double fx = sx - x0;
                for (int c = 0; c < 3; c++) {
                    int o = c * h * w;
                    double v = (1 - fy) * ((1 - fx) * src[o + y0 * w + x0] + fx * src[o + y0 * w + x1])
                            + fy * ((1 - fx) * src[o + y1 * w + x0] + fx * src[o + y1 * w + x1]);
                    out[(c * height + y) * width + x] = clamp(v);
                }
            }
        }
        return new RgbImage(width, height, out);
    }

    /** The rectangle {@code [x, x + cw) × [y, y + ch)}, which must lie inside the image. */
    public static RgbImage crop(RgbImage img, int x, int y, int cw, int ch) {
        if (x < 0 || y < 0 || cw < 1 || ch < 1 || x + cw > img.width() || y + ch > img.height()) {
            throw new IllegalArgumentException("crop " + cw + "x" + ch + "+" + x + "+" + y + " outside " + img);
        }
        float[] src = img.chw();
        float[] out = new float[3 * cw * ch];
        for (int c = 0; c < 3; c++) {
            for (int r = 0; r < ch; r++) {
                System.arraycopy(src, (c * img.height() + y + r) * img.width() + x, out, (c * ch + r) * cw, cw);
            }
        }
        return new RgbImage(cw, ch, out);
    }

    /**
     * A random crop covering {@code scale} of the area (aspect ratio in [3/4, 4/3]) resized back to the original
     * size: torchvision's {@code RandomResizedCrop} with a bilinear resize.
     */
    public static RgbImage randomResizedCrop(RgbImage img, double scaleMin, double scaleMax, RandomGenerator rng) {
        int w = img.width();
        int h = img.height();
        for (int attempt = 0; attempt < 10; attempt++) {
            double area = w * h * (scaleMin + (scaleMax - scaleMin) * rng.nextDouble());
            double logRatio = Math.log(3.0 / 4) + (Math.log(4.0 / 3) - Math.log(3.0 / 4)) * rng.nextDouble();
            double ratio = Math.exp(logRatio);
            int cw = (int) Math.round(Math.sqrt(area * ratio));
            int ch = (int) Math.round(Math.sqrt(area / ratio));
            if (cw > 0 && ch > 0 && cw <= w && ch <= h) {
                int x = rng.nextInt(w - cw + 1);
                int y = rng.nextInt(h - ch + 1);
                return resize(crop(img, x, y, cw, ch), w, h);
            }
        }
        return img;
    }

    /** Mirror left-right. */
    public static RgbImage flipHorizontal(RgbImage img) {
        return img.mirrored();
    }

    /** {@code x · factor}, clamped (torchvision's {@code adjust_brightness}). */
    public static RgbImage brightness(RgbImage img, double factor) {
        float[] src = img.chw();
        float[] out = new float[src.length];
        for (int i = 0; i < src.length; i++) {
            out[i] = clamp(src[i] * factor);
        }
        return new RgbImage(img.width(), img.height(), out);
    }

    /**
     * ImageNet-C's contrast: {@code (x − mean) · factor + mean} per channel, the mean over the image; clamped.
     */
    public static RgbImage contrast(RgbImage img, double factor) {
        float[] src = img.chw();
        float[] out = new float[src.length];
        int plane = img.planeSize();
        for (int c = 0; c < 3; c++) {
            double mean = 0;
            for (int p = 0; p < plane; p++) {
                mean += src[c * plane + p];
            }
            mean /= plane;
            for (int p = 0; p < plane; p++) {
                out[c * plane + p] = clamp((src[c * plane + p] - mean) * factor + mean);
            }
        }
        return new RgbImage(img.width(), img.height(), out);
    }

    /**
     * Additive Gaussian noise of standard deviation {@code sigma}, clamped. Grayscale images (three equal planes)
     * get the same noise on every channel so they stay grayscale.
     */
    public static RgbImage gaussianNoise(RgbImage img, double sigma, RandomGenerator rng) {
        float[] src = img.chw();
        float[] out = new float[src.length];
        int plane = img.planeSize();
        boolean gray = isGray(img);
        for (int c = 0; c < 3; c++) {
            for (int p = 0; p < plane; p++) {
                if (gray && c > 0) {
                    out[c * plane + p] = out[p];
                } else {
                    out[c * plane + p] = clamp(src[c * plane + p] + sigma * rng.nextGaussian());
                }
            }
        }
        return new RgbImage(img.width(), img.height(), out);
    }

    /**
     * Separable Gaussian blur, kernel radius {@code ceil(3σ)}, reflect padding (scipy's {@code gaussian_filter},
     * which ImageNet-C uses, pads with reflection too).
     */
    public static RgbImage gaussianBlur(RgbImage img, double sigma) {
        if (sigma <= 0) {
            return img;
        }
        int r = (int) Math.ceil(3 * sigma);
        double[] k = new double[2 * r + 1];
        double sum = 0;
        for (int i = -r; i <= r; i++) {
            k[i + r] = Math.exp(-i * i / (2 * sigma * sigma));
            sum += k[i + r];
        }
        for (int i = 0; i < k.length; i++) {
            k[i] /= sum;
        }
        int w = img.width();
        int h = img.height();
        float[] src = img.chw();
        float[] tmp = new float[src.length];
        float[] out = new float[src.length];
        for (int c = 0; c < 3; c++) {
            int o = c * w * h;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    double s = 0;
                    for (int i = -r; i <= r; i++) {
                        s += k[i + r] * src[o + y * w + reflect(x + i, w)];
                    }
                    tmp[o + y * w + x] = (float) s;
                }
            }
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    double s = 0;
                    for (int i = -r; i <= r; i++) {
                        s += k[i + r] * tmp[o + reflect(y + i, h) * w + x];
                    }
                    out[o + y * w + x] = clamp(s);
                }
            }
        }
        return new RgbImage(w, h, out);
    }

    /** Encode as JPEG at {@code quality} (1..100) with the JDK's encoder and decode again. */
    public static RgbImage jpeg(RgbImage img, int quality) {
        if (quality < 1 || quality > 100) {
            throw new IllegalArgumentException("JPEG quality must be in [1, 100]: " + quality);
        }
        boolean gray = isGray(img);
        BufferedImage bi = toBufferedImage(img, gray);
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("jpeg");
            if (!writers.hasNext()) {
                throw new IllegalStateException("this JDK has no JPEG encoder");
            }
            ImageWriter writer = writers.next();
            try (MemoryCacheImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
                writer.setOutput(out);
                ImageWriteParam p = writer.getDefaultWriteParam();
                p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
                p.setCompressionQuality(quality / 100f);
                writer.write(null, new IIOImage(bi, null, null), p);
            } finally {
                writer.dispose();
            }
            BufferedImage back = ImageIO.read(new ByteArrayInputStream(bytes.toByteArray()));
            return fromBufferedImage(back);
        } catch (IOException e) {
            throw new UncheckedIOException("JPEG round trip failed: " + e.getMessage(), e);
        }
    }

    /** An 8-bit image (TYPE_BYTE_GRAY when the three planes are equal, else TYPE_INT_RGB). */
    public static BufferedImage toBufferedImage(RgbImage img, boolean gray) {
        int w = img.width();
        int h = img.height();
        int plane = w * h;
        float[] c = img.chw();
        BufferedImage bi = new BufferedImage(w, h, gray ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = y * w + x;
                int r = to8(c[p]);
                if (gray) {
                    bi.getRaster().setSample(x, y, 0, r);
                } else {
                    bi.setRGB(x, y, (r << 16) | (to8(c[plane + p]) << 8) | to8(c[2 * plane + p]));
                }
            }
        }
        return bi;
    }

    /** The image of an 8-bit {@link BufferedImage} (grayscale expands to three equal channels). */
    public static RgbImage fromBufferedImage(BufferedImage bi) {
        int w = bi.getWidth();
        int h = bi.getHeight();
        int plane = w * h;
        float[] out = new float[3 * plane];
        boolean gray = bi.getRaster().getNumBands() == 1;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = y * w + x;
                if (gray) {
                    float v = bi.getRaster().getSample(x, y, 0) / 255f;
                    out[p] = v;
                    out[plane + p] = v;
                    out[2 * plane + p] = v;
                } else {
                    int rgb = bi.getRGB(x, y);
                    out[p] = ((rgb >> 16) & 0xff) / 255f;
                    out[plane + p] = ((rgb >> 8) & 0xff) / 255f;
                    out[2 * plane + p] = (rgb & 0xff) / 255f;
                }
            }
        }
        return new RgbImage(w, h, out);
    }

    /** Whether all three planes are equal. */
    public static boolean isGray(RgbImage img) {
        float[] c = img.chw();
        int plane = img.planeSize();
        for (int p = 0; p < plane; p++) {
            if (c[p] != c[plane + p] || c[p] != c[2 * plane + p]) {
                return false;
            }
        }
        return true;
    }

    private static int to8(float v) {
        return Math.max(0, Math.min(255, Math.round(v * 255f)));
    }

    private static int reflect(int i, int n) {
        // scipy 'reflect' (d c b a | a b c d | d c b a), valid for kernels shorter than 2n
        while (i < 0 || i >= n) {
            i = i < 0 ? -i - 1 : 2 * n - i - 1;
        }
        return i;
    }

    private static float clamp(double v) {
        return (float) Math.max(0.0, Math.min(1.0, v));
    }
}
