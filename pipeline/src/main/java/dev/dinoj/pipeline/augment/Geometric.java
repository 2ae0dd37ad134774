package dev.dinoj.pipeline.augment;

import dev.dinoj.pipeline.data.RgbImage;
import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * dinov2's {@code geometric_augmentation_*}: torchvision's
 * {@code RandomResizedCrop(size, scale, ratio, interpolation=BICUBIC)} on a PIL image (sample a box with
 * {@link #sampleBox}, crop it and resize it with PIL's bicubic filter in {@link #resample}), then
 * {@code RandomHorizontalFlip} ({@link #flipHorizontal}).
 */
public final class Geometric {
    private static final int ATTEMPTS = 10;
    /** PIL's bicubic filter support (its "radius" in source pixels at scale 1). */
    private static final double BICUBIC_SUPPORT = 2.0;
    /** PIL's bicubic parameter a (Keys' cubic convolution with a = -0.5). */
    private static final double A = -0.5;

    private Geometric() {}

    /**
     * {@code RandomResizedCrop.get_params}: up to 10 tries of a box with area fraction {@code U(scale)} and
     * aspect ratio {@code exp(U(log ratio))}, placed uniformly, accepted if it fits; otherwise a central crop
     * whose aspect ratio is clamped to the ratio range.
     */
    static CropBox sampleBox(
            int width,
            int height,
            double scaleMin,
            double scaleMax,
            double ratioMin,
            double ratioMax,
            RandomGenerator rng) {
        double area = (double) height * width;
        double logRatioMin = Math.log(ratioMin);
        double logRatioMax = Math.log(ratioMax);
        for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
            double targetArea = area * uniform(rng, scaleMin, scaleMax);
            double aspectRatio = Math.exp(uniform(rng, logRatioMin, logRatioMax));
            int w = (int) Math.rint(Math.sqrt(targetArea * aspectRatio)); // Python int(round(x)): half to even
            int h = (int) Math.rint(Math.sqrt(targetArea / aspectRatio));
            if (0 < w && w <= width && 0 < h && h <= height) {
                int top = rng.nextInt(height - h + 1);
                int left = rng.nextInt(width - w + 1);
                return new CropBox(top, left, h, w);
            }
        }
        // Fallback to a central crop.
        double inRatio = (double) width / height;
        int w;
        int h;
        if (inRatio < ratioMin) {
            w = width;
            h = (int) Math.rint(w / ratioMin);
        } else if (inRatio > ratioMax) {
            h = height;
            w = (int) Math.rint(h * ratioMax);
        } else {
            w = width;
            h = height;
        }
        return new CropBox((height - h) / 2, (width - w) / 2, h, w);
    }

    /** Python's {@code random.uniform(a, b)} (and torch's {@code uniform_}): {@code a + (b - a) * U[0, 1)}. */
    static double uniform(RandomGenerator rng, double a, double b) {
        return a + (b - a) * rng.nextDouble();
    }

    /** {@link #resample(RgbImage, CropBox, int, int, float[], Scratch)} to a square {@code outSize × outSize}. */
    static void resample(RgbImage src, CropBox box, int outSize, float[] dst, Scratch scratch) {
        resample(src, box, outSize, outSize, dst, scratch);
    }

    /**
     * Crops {@code box} out of {@code src} and resizes it to {@code outW x outH} like PIL's
     * {@code Image.resize(..., BICUBIC)}: separable, horizontal pass then vertical pass, each clamped to [0, 1]
     * as PIL's 8-bit intermediate is; when shrinking, the filter is stretched by the scale (antialiasing).
     *
     * @param dst receives {@code [3, outH, outW]} values
     */
    static void resample(RgbImage src, CropBox box, int outW, int outH, float[] dst, Scratch scratch) {
        int srcW = src.width();
        int srcH = src.height();
        float[] in = src.chw();
        int bw = box.width();
        int bh = box.height();

        // Horizontal pass: [3, bh, bw] (inside the box) -> tmp [3, bh, outW]
        int[] bx = scratch.boundsX(2 * outW);
        float[] kx = scratch.coeffsX(outW * kernelSize(bw, outW));
        int ksx = coefficients(bw, outW, kx, bx);
        float[] tmp = scratch.tmp(3 * bh * outW);
        // four rows at a time (the three channels' rows in turn): their sums share the taps and run side by side,
        // each adding its taps in order, so every value is the one a row at a time gives
        int rows = 3 * bh;
        int r = 0;
        for (; r + 4 <= rows; r += 4) {
            int s0 = rowStart(r, bh, srcH, srcW, box);
            int s1 = rowStart(r + 1, bh, srcH, srcW, box);
            int s2 = rowStart(r + 2, bh, srcH, srcW, box);
            int s3 = rowStart(r + 3, bh, srcH, srcW, box);
            int out = r * outW;
            for (int x = 0; x < outW; x++) {
                int first = bx[2 * x];
                int n = bx[2 * x + 1];
                int k0 = x * ksx;
                float a0 = 0f;
                float a1 = 0f;
                float a2 = 0f;
                float a3 = 0f;
                for (int k = 0; k < n; k++) {
                    float w = kx[k0 + k];
                    int j = first + k;
                    a0 += in[s0 + j] * w;
                    a1 += in[s1 + j] * w;
                    a2 += in[s2 + j] * w;
                    a3 += in[s3 + j] * w;
                }
                tmp[out + x] = clamp01(a0);
                tmp[out + outW + x] = clamp01(a1);
                tmp[out + 2 * outW + x] = clamp01(a2);
                tmp[out + 3 * outW + x] = clamp01(a3);
            }
        }
        for (; r < rows; r++) {
            int rowStart = rowStart(r, bh, srcH, srcW, box);
            int outRow = r * outW;
            for (int x = 0; x < outW; x++) {
                int first = rowStart + bx[2 * x];
                int n = bx[2 * x + 1];
                int k0 = x * ksx;
                float sum = 0f;
                for (int k = 0; k < n; k++) {
                    sum += in[first + k] * kx[k0 + k];
                }
                tmp[outRow + x] = clamp01(sum);
            }
        }

        // Vertical pass: tmp [3, bh, outW] -> dst [3, outH, outW]
        int[] by = scratch.boundsY(2 * outH);
        float[] ky = scratch.coeffsY(outH * kernelSize(bh, outH));
        int ksy = coefficients(bh, outH, ky, by);
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < outH; y++) {
                int outRow = (c * outH + y) * outW;
                int first = by[2 * y];
                int n = by[2 * y + 1];
                Arrays.fill(dst, outRow, outRow + outW, 0f);
                for (int k = 0; k < n; k++) {
                    float w = ky[y * ksy + k];
                    int inRow = (c * bh + first + k) * outW;
                    for (int x = 0; x < outW; x++) {
                        dst[outRow + x] += tmp[inRow + x] * w;
                    }
                }
                for (int x = 0; x < outW; x++) {
                    dst[outRow + x] = clamp01(dst[outRow + x]);
                }
            }
        }
    }

    /** Where row {@code r} of the box's three channels ({@code r = c * bh + y}) starts in the source's CHW array. */
    private static int rowStart(int r, int bh, int srcH, int srcW, CropBox box) {
        int c = r / bh;
        int y = r - c * bh;
        return (c * srcH + box.top() + y) * srcW + box.left();
    }

    /**
     * The whole of {@code src} resized to {@code outW × outH} with PIL's antialiased bicubic filter (as
     * {@code Image.resize((outW, outH), BICUBIC)}).
     */
    public static RgbImage resize(RgbImage src, int outW, int outH) {
        float[] dst = new float[3 * outW * outH];
        resample(src, new CropBox(0, 0, src.height(), src.width()), outW, outH, dst, new Scratch());
        return new RgbImage(outW, outH, dst);
    }

    /**
     * torchvision's {@code Resize(size)} with an int: the shorter side becomes {@code size}, the longer keeps the aspect
     * ratio ({@code int(size * long / short)}), bicubic; an image whose shorter side is already {@code size} is returned
     * as is.
     */
    public static RgbImage resizeShorterSide(RgbImage src, int size) {
        int w = src.width();
        int h = src.height();
        if (Math.min(w, h) == size) {
            return src;
        }
        return w <= h ? resize(src, size, (int) ((long) size * h / w)) : resize(src, (int) ((long) size * w / h), size);
    }

    /** PIL's {@code ksize}: taps per output pixel for resizing {@code inSize} to {@code outSize}. */
    private static int kernelSize(int inSize, int outSize) {
        double filterScale = Math.max((double) inSize / outSize, 1.0);
        return (int) Math.ceil(BICUBIC_SUPPORT * filterScale) * 2 + 1;
    }

    /**
     * PIL's {@code precompute_coeffs} (Resample.c) for the bicubic filter: for output pixel {@code xx},
     * taps start at source index {@code bounds[2xx]}, there are {@code bounds[2xx+1]} of them, and their
     * normalised weights are {@code kk[xx*ksize ..]}.
     *
     * @return ksize, the stride of {@code kk}
     */
    static int coefficients(int inSize, int outSize, float[] kk, int[] bounds) {
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = BICUBIC_SUPPORT * filterScale;
        int ksize = kernelSize(inSize, outSize);
        double ss = 1.0 / filterScale;
        for (int xx = 0; xx < outSize; xx++) {
            double center = (xx + 0.5) * scale;
            int xmin = Math.max((int) (center - support + 0.5), 0); // C cast: truncation toward zero
            int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
            double sum = 0;
            for (int x = 0; x < xmax; x++) {
                sum += bicubic((x + xmin - center + 0.5) * ss);
            }
            double divisor = sum != 0 ? sum : 1.0;
            for (int x = 0; x < ksize; x++) {
                kk[xx * ksize + x] = x < xmax ? (float) (bicubic((x + xmin - center + 0.5) * ss) / divisor) : 0f;
            }
            bounds[2 * xx] = xmin;
            bounds[2 * xx + 1] = xmax;
        }
        return ksize;
    }

    /** PIL's {@code bicubic_filter}: Keys' cubic with a = -0.5, support [-2, 2]. */
    static double bicubic(double x) {
        x = Math.abs(x);
        if (x < 1.0) {
            return ((A + 2.0) * x - (A + 3.0)) * x * x + 1;
        }
        if (x < 2.0) {
            return (((x - 5) * x + 8) * x - 4) * A;
        }
        return 0.0;
    }

    /** {@code RandomHorizontalFlip}: mirrors each row of a {@code [3, size, size]} image in place. */
    static void flipHorizontal(float[] img, int size) {
        for (int row = 0; row < 3 * size; row++) {
            for (int a = row * size, b = a + size - 1; a < b; a++, b--) {
                float t = img[a];
                img[a] = img[b];
                img[b] = t;
            }
        }
    }

    static float clamp01(float v) {
        return v < 0f ? 0f : (v > 1f ? 1f : v);
    }
}
