package dev.dinoj.pipeline.augment;

import static dev.dinoj.pipeline.augment.Geometric.clamp01;

import java.util.Arrays;

/**
 * The colour operations of dinov2's recipe, in place on a {@code [3, H, W]} float image in [0, 1], with the
 * formulas of torchvision's tensor functional ({@code torchvision.transforms._functional_tensor}), which are
 * those of the PIL path without the uint8 rounding. Each result is clamped to [0, 1] as uint8 saturates.
 */
final class Photometric {
    /** torchvision {@code rgb_to_grayscale} weights (ITU-R 601-2 luma). */
    static final float GRAY_R = 0.2989f;

    static final float GRAY_G = 0.587f;
    static final float GRAY_B = 0.114f;
    /** {@code RandomSolarize(threshold=128)} on a [0, 1] image: pixels {@code >= 128/255} are inverted. */
    static final float SOLARIZE_THRESHOLD = 128f / 255f;

    private Photometric() {}

    static float gray(float r, float g, float b) {
        return GRAY_R * r + GRAY_G * g + GRAY_B * b;
    }

    /** {@code adjust_brightness}: blend with black, {@code f * x}. */
    static void adjustBrightness(float[] img, double factor) {
        float f = (float) factor;
        for (int i = 0; i < img.length; i++) {
            img[i] = clamp01(f * img[i]);
        }
    }

    /** {@code adjust_contrast}: blend with the mean of the grayscale image, {@code f * x + (1 - f) * mean}. */
    static void adjustContrast(float[] img, int plane, double factor) {
        double sum = 0;
        for (int i = 0; i < plane; i++) {
            sum += gray(img[i], img[plane + i], img[2 * plane + i]);
        }
        float mean = (float) (sum / plane);
        float f = (float) factor;
        float g = (float) (1.0 - factor) * mean;
        for (int i = 0; i < img.length; i++) {
            img[i] = clamp01(f * img[i] + g);
        }
    }

    /** {@code adjust_saturation}: per-pixel blend with grayscale, {@code f * x + (1 - f) * gray(x)}. */
    static void adjustSaturation(float[] img, int plane, double factor) {
        float f = (float) factor;
        float f1 = (float) (1.0 - factor);
        for (int i = 0; i < plane; i++) {
            float g = f1 * gray(img[i], img[plane + i], img[2 * plane + i]);
            for (int c = i; c < img.length; c += plane) {
                img[c] = clamp01(f * img[c] + g);
            }
        }
    }

    /**
     * {@code adjust_hue}: RGB to HSV ({@code _rgb2hsv}), {@code h = (h + shift) mod 1}, back to RGB
     * ({@code _hsv2rgb}).
     *
     * @param shift hue shift in turns, in [-0.5, 0.5]
     */
    static void adjustHue(float[] img, int plane, double shift) {
        float hueShift = (float) shift;
        for (int i = 0; i < plane; i++) {
            float r = img[i];
            float g = img[plane + i];
            float b = img[2 * plane + i];
            // _rgb2hsv
            float maxc = Math.max(r, Math.max(g, b));
            float minc = Math.min(r, Math.min(g, b));
            float cr = maxc - minc;
            boolean eqc = cr == 0f;
            float s = cr / (eqc ? 1f : maxc);
            float divisor = eqc ? 1f : cr;
            float rc = (maxc - r) / divisor;
            float gc = (maxc - g) / divisor;
            float bc = (maxc - b) / divisor;
            float h;
            if (maxc == r) {
                h = bc - gc;
            } else if (maxc == g) {
                h = 2f + rc - bc;
            } else {
                h = 4f + gc - rc;
            }
            h = (h / 6f + 1f) % 1f; // torch.fmod; the argument is positive
            // h = (h + hue_factor) % 1.0 (Python/torch remainder: result in [0, 1))
            h += hueShift;
            h -= (float) Math.floor(h);
            if (h >= 1f) {
                h = 0f;
            }
            // _hsv2rgb
            float v = maxc;
            float h6 = h * 6f;
            float fi = (float) Math.floor(h6);
            float f = h6 - fi;
            int sector = ((int) fi) % 6;
            float p = clamp01(v * (1f - s));
            float q = clamp01(v * (1f - s * f));
            float t = clamp01(v * (1f - s * (1f - f)));
            switch (sector) {
                case 0 -> set(img, plane, i, v, t, p);
                case 1 -> set(img, plane, i, q, v, p);
                case 2 -> set(img, plane, i, p, v, t);
                case 3 -> set(img, plane, i, p, q, v);
                case 4 -> set(img, plane, i, t, p, v);
                default -> set(img, plane, i, v, p, q);
            }
        }
    }

    private static void set(float[] img, int plane, int i, float r, float g, float b) {
        img[i] = r;
        img[plane + i] = g;
        img[2 * plane + i] = b;
    }

    /** {@code rgb_to_grayscale(img, num_output_channels=3)}: every channel becomes the luma. */
    static void grayscale(float[] img, int plane) {
        for (int i = 0; i < plane; i++) {
            float g = gray(img[i], img[plane + i], img[2 * plane + i]);
            set(img, plane, i, g, g, g);
        }
    }

    /**
     * {@code gaussian_blur(img, [k, k], [sigma, sigma])}: normalised 1-D Gaussian taps at {@code -(k-1)/2 ..
     * (k-1)/2}, applied along rows then columns (the separable form of torchvision's 2-D kernel) with
     * {@code reflect} padding (mirror without repeating the edge).
     */
    static void gaussianBlur(float[] img, int size, int kernelSize, double sigma, Scratch scratch) {
        float[] kernel = scratch.kernel(kernelSize);
        int half = kernelSize / 2;
        float sum = 0f;
        for (int k = 0; k < kernelSize; k++) {
            double x = (k - half) / sigma;
            kernel[k] = (float) Math.exp(-0.5 * x * x);
            sum += kernel[k];
        }
        for (int k = 0; k < kernelSize; k++) {
            kernel[k] /= sum;
        }
        float[] tmp = scratch.tmp(img.length);
        // interior taps need no padding; each sum adds its taps in kernel order, as torchvision's conv does here
        int lo = Math.min(half, size);
        int hi = Math.max(lo, size - half);
        for (int row = 0; row < 3 * size; row++) { // along x: img -> tmp
            int base = row * size;
            for (int x = 0; x < size; x++) {
                float acc = 0f;
                if (x >= lo && x < hi) {
                    int first = base + x - half;
                    for (int k = 0; k < kernelSize; k++) {
                        acc += kernel[k] * img[first + k];
                    }
                } else {
                    for (int k = 0; k < kernelSize; k++) {
                        acc += kernel[k] * img[base + reflect(x + k - half, size)];
                    }
                }
                tmp[base + x] = acc;
            }
        }
        float[] acc = scratch.row(size);
        for (int c = 0; c < 3; c++) { // along y: tmp -> img, a row of sums at a time (same order per pixel)
            int base = c * size * size;
            for (int y = 0; y < size; y++) {
                Arrays.fill(acc, 0, size, 0f);
                for (int k = 0; k < kernelSize; k++) {
                    float kv = kernel[k];
                    int src = base + reflect(y + k - half, size) * size;
                    for (int x = 0; x < size; x++) {
                        acc[x] += kv * tmp[src + x];
                    }
                }
                int dst = base + y * size;
                for (int x = 0; x < size; x++) {
                    img[dst + x] = clamp01(acc[x]);
                }
            }
        }
    }

    /** Index into {@code [0, n)} with {@code reflect} padding: -1 → 1, n → n-2 (repeated for wide kernels). */
    static int reflect(int i, int n) {
        if (n == 1) {
            return 0;
        }
        while (i < 0 || i >= n) {
            i = i < 0 ? -i : 2 * (n - 1) - i;
        }
        return i;
    }

    /** {@code solarize(img, 128)}: pixels {@code >= 128/255} become {@code 1 - x}. */
    static void solarize(float[] img) {
        for (int i = 0; i < img.length; i++) {
            if (img[i] >= SOLARIZE_THRESHOLD) {
                img[i] = 1f - img[i];
            }
        }
    }

    /** {@code ToTensor} (already [0, 1]) + {@code Normalize(mean, std)}: {@code (x - mean[c]) / std[c]}. */
    static void normalize(float[] img, int plane, float[] mean, float[] std) {
        for (int c = 0; c < 3; c++) {
            float m = mean[c];
            float s = std[c];
            for (int i = c * plane, end = i + plane; i < end; i++) {
                img[i] = (img[i] - m) / s;
            }
        }
    }
}
