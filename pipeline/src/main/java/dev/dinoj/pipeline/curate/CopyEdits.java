package dev.dinoj.pipeline.curate;

import dev.dinoj.pipeline.data.RgbImage;
import dev.dinoj.pipeline.ingest.ImageEncoding;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;

/**
 * The edits copy-detection benchmarks (DISC21, AugLy) apply to make copies, deterministic for a seed: a crop of 75–95 %
 * of each side at a random position resized back to the original size, a horizontal flip, brightness (±0.2 of the
 * range, added) and contrast (×0.8–1.2 about the mean), Gaussian noise (σ 0.02–0.05 per channel), 2-px padding of a
 * random colour (the image grows by 4 px per axis), JPEG re-encoding (quality 50–90), and "mixed": crop, a flip half
 * the time, brightness/contrast, noise, padding half the time, then JPEG. Every result is 8-bit (values k/255). Each
 * copy records what was applied ({@link Copy#applied()}), so a benchmark can report recall per edit.
 */
public final class CopyEdits {
    private CopyEdits() {}

    /** The kinds of copy a benchmark plants, one per copy. */
    public enum Kind {
        CROP,
        FLIP,
        PHOTOMETRIC,
        NOISE,
        PAD,
        JPEG,
        MIXED;

        /** Lower-case name for tables. */
        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * An edited copy.
     *
     * @param image   the copy
     * @param kind    the kind asked for
     * @param applied the edits applied, in order, with their parameters (e.g. {@code crop 0.81x0.90@(0.05,0.02)})
     */
    public record Copy(RgbImage image, Kind kind, List<String> applied) {}

    /** A copy of {@code original} of {@code kind}, its random parameters drawn from {@code rnd}. */
    public static Copy make(RgbImage original, Kind kind, SplittableRandom rnd) {
        List<String> applied = new ArrayList<>();
        RgbImage img = original;
        switch (kind) {
            case CROP -> img = crop(img, rnd, applied);
            case FLIP -> img = flip(img, applied);
            case PHOTOMETRIC -> img = photometric(img, rnd, applied);
            case NOISE -> img = noise(img, rnd, applied);
            case PAD -> img = pad(img, rnd, applied);
            case JPEG -> img = jpeg(img, rnd, applied);
            case MIXED -> {
                img = crop(img, rnd, applied);
                if (rnd.nextBoolean()) {
                    img = flip(img, applied);
                }
                img = photometric(img, rnd, applied);
                img = noise(img, rnd, applied);
                if (rnd.nextBoolean()) {
                    img = pad(img, rnd, applied);
                }
                img = jpeg(img, rnd, applied);
            }
        }
        return new Copy(img, kind, List.copyOf(applied));
    }

    /** A crop of 75–95 % of each side (drawn independently) at a random position, resized back bilinearly. */
    static RgbImage crop(RgbImage img, SplittableRandom rnd, List<String> applied) {
        int w = img.width();
        int h = img.height();
        double fw = 0.75 + 0.2 * rnd.nextDouble();
        double fh = 0.75 + 0.2 * rnd.nextDouble();
        double x0 = (1 - fw) * rnd.nextDouble();
        double y0 = (1 - fh) * rnd.nextDouble();
        applied.add(String.format(Locale.ROOT, "crop %.2fx%.2f@(%.2f,%.2f)", fw, fh, x0, y0));
        float[] src = img.chw();
        float[] out = new float[src.length];
        int plane = w * h;
        for (int y = 0; y < h; y++) {
            double sy = (y0 + fh * (y + 0.5) / h) * h - 0.5;
            int iy = clampIndex((int) Math.floor(sy), h);
            int iy1 = Math.min(h - 1, iy + 1);
            double wy = Math.max(0, Math.min(1, sy - iy));
            for (int x = 0; x < w; x++) {
                double sx = (x0 + fw * (x + 0.5) / w) * w - 0.5;
                int ix = clampIndex((int) Math.floor(sx), w);
                int ix1 = Math.min(w - 1, ix + 1);
                double wx = Math.max(0, Math.min(1, sx - ix));
                for (int c = 0; c < 3; c++) {
                    int o = c * plane;
                    double top = src[o + iy * w + ix] * (1 - wx) + src[o + iy * w + ix1] * wx;
                    double bot = src[o + iy1 * w + ix] * (1 - wx) + src[o + iy1 * w + ix1] * wx;
                    out[o + y * w + x] = (float) (top * (1 - wy) + bot * wy);
                }
            }
        }
        return quantised(w, h, out);
    }

    static RgbImage flip(RgbImage img, List<String> applied) {
        applied.add("flip");
        return img.mirrored();
    }

    /** Contrast ×0.8–1.2 about the image's mean, then brightness ±0.2 added, clipped to [0, 1]. */
    static RgbImage photometric(RgbImage img, SplittableRandom rnd, List<String> applied) {
        double contrast = 0.8 + 0.4 * rnd.nextDouble();
        double brightness = -0.2 + 0.4 * rnd.nextDouble();
        applied.add(String.format(Locale.ROOT, "contrast %.2f brightness %+.2f", contrast, brightness));
        float[] src = img.chw();
        double mean = 0;
        for (float v : src) {
            mean += v;
        }
        mean /= src.length;
        float[] out = new float[src.length];
        for (int i = 0; i < src.length; i++) {
            out[i] = (float) ((src[i] - mean) * contrast + mean + brightness);
        }
        return quantised(img.width(), img.height(), out);
    }

    /** Gaussian noise of σ 0.02–0.05, independent per pixel and channel. */
    static RgbImage noise(RgbImage img, SplittableRandom rnd, List<String> applied) {
        double sigma = 0.02 + 0.03 * rnd.nextDouble();
        applied.add(String.format(Locale.ROOT, "noise %.3f", sigma));
        float[] src = img.chw();
        float[] out = new float[src.length];
        for (int i = 0; i < src.length; i++) {
            out[i] = (float) (src[i] + sigma * gaussian(rnd));
        }
        return quantised(img.width(), img.height(), out);
    }

    /** A 2-px border of one random colour on every side. */
    static RgbImage pad(RgbImage img, SplittableRandom rnd, List<String> applied) {
        int p = 2;
        float[] colour = {(float) rnd.nextDouble(), (float) rnd.nextDouble(), (float) rnd.nextDouble()};
        applied.add(String.format(Locale.ROOT, "pad %d (%.2f,%.2f,%.2f)", p, colour[0], colour[1], colour[2]));
        int w = img.width();
        int h = img.height();
        int ow = w + 2 * p;
        int oh = h + 2 * p;
        float[] src = img.chw();
        float[] out = new float[3 * ow * oh];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < oh; y++) {
                for (int x = 0; x < ow; x++) {
                    boolean inside = x >= p && x < p + w && y >= p && y < p + h;
                    out[(c * oh + y) * ow + x] = inside ? src[(c * h + y - p) * w + x - p] : colour[c];
                }
            }
        }
        return quantised(ow, oh, out);
    }

    /** Re-encoded as baseline JPEG of quality 50–90 and decoded. */
    static RgbImage jpeg(RgbImage img, SplittableRandom rnd, List<String> applied) {
        int q = 50 + rnd.nextInt(41);
        applied.add("jpeg " + q);
        try {
            return RgbImage.of(ImageIO.read(new ByteArrayInputStream(ImageEncoding.jpeg(img, q))));
        } catch (IOException e) {
            throw new UncheckedIOException("decoding our own JPEG failed", e);
        }
    }

    private static double gaussian(SplittableRandom rnd) {
        double u1 = Math.max(1e-12, rnd.nextDouble());
        double u2 = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    private static int clampIndex(int i, int n) {
        return Math.max(0, Math.min(n - 1, i));
    }

    private static RgbImage quantised(int w, int h, float[] v) {
        for (int i = 0; i < v.length; i++) {
            v[i] = Math.round(Math.max(0f, Math.min(1f, v[i])) * 255f) / 255f;
        }
        return new RgbImage(w, h, v);
    }
}
