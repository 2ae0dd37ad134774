package dev.dinoj.pipeline.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.pipeline.data.RgbImage;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class GeometricTest {
    @Test
    void shouldKeepBoxesInsideTheImageWithAreaInScaleRange() {
        SplittableRandom rng = new SplittableRandom(42);
        int[][] sizes = {{28, 28}, {64, 48}, {30, 100}, {224, 224}};
        double[][] scales = {{0.32, 1.0}, {0.05, 0.32}};
        for (int[] size : sizes) {
            for (double[] scale : scales) {
                for (int t = 0; t < 5000; t++) {
                    CropBox b = Geometric.sampleBox(size[0], size[1], scale[0], scale[1], 3 / 4.0, 4 / 3.0, rng);
                    assertTrue(b.top() >= 0 && b.left() >= 0 && b.height() > 0 && b.width() > 0, b.toString());
                    assertTrue(b.top() + b.height() <= size[1] && b.left() + b.width() <= size[0], b.toString());
                    // w and h are rounded from the exact sqrt, so the fraction may miss the range by a rounding margin
                    double frac = b.areaFraction(size[0], size[1]);
                    double slack = (b.width() + b.height() + 1.0) / ((double) size[0] * size[1]);
                    boolean fallback = b.width() == size[0] || b.height() == size[1];
                    assertTrue(
                            fallback || frac >= scale[0] - slack && frac <= scale[1] + slack,
                            "fraction " + frac + " of " + b + " outside " + scale[0] + ".." + scale[1]);
                }
            }
        }
    }

    @Test
    void shouldFallBackToCentralCropClampedToTheRatioRange() {
        // A 100x10 strip: no box of area >= 90% with ratio <= 4/3 fits, so all 10 attempts fail.
        CropBox b = Geometric.sampleBox(100, 10, 0.9, 1.0, 3 / 4.0, 4 / 3.0, new SplittableRandom(1));
        assertEquals(new CropBox(0, 43, 10, 13), b); // w = round(10 * 4/3) = 13, centred: (100 - 13) / 2 = 43
        assertEquals(
                new CropBox(0, 0, 10, 10),
                Geometric.sampleBox(
                        10,
                        10,
                        2.0,
                        3.0,
                        3 / 4.0,
                        4 / 3.0,
                        new SplittableRandom(1))); // in-range ratio: the whole image
    }

    @Test
    void shouldMatchPilBicubicFilter() {
        assertEquals(1.0, Geometric.bicubic(0), 0);
        assertEquals(0.0, Geometric.bicubic(1), 0);
        assertEquals(0.0, Geometric.bicubic(2), 0);
        assertEquals(0.5625, Geometric.bicubic(0.5), 1e-12); // ((1.5 * .5 - 2.5) * .25) + 1
        assertEquals(-0.0625, Geometric.bicubic(1.5), 1e-12); // ((1.5 - 5) * 1.5 + 8) * 1.5 - 4) * -0.5
    }

    @Test
    void shouldNormaliseCoefficientsAndAntialiasWhenShrinking() {
        float[] kk = new float[64 * 64];
        int[] bounds = new int[128];
        for (int[] io : new int[][] {{28, 32}, {28, 16}, {7, 16}, {100, 13}}) {
            int ksize = Geometric.coefficients(io[0], io[1], kk, bounds);
            for (int xx = 0; xx < io[1]; xx++) {
                float sum = 0;
                for (int k = 0; k < ksize; k++) {
                    sum += kk[xx * ksize + k];
                }
                assertEquals(1f, sum, 1e-5f);
                assertTrue(bounds[2 * xx] >= 0 && bounds[2 * xx] + bounds[2 * xx + 1] <= io[0]);
            }
            if (io[0] > io[1]) { // downscale: support grows to 2 * scale source pixels on each side
                assertTrue(ksize > 5, "ksize " + ksize);
            }
        }
    }

    @Test
    void shouldResampleConstantToConstantAndIdentityToIdentity() {
        RgbImage c = TestImages.constant(20, 12, 0.25f, 0.5f, 1f);
        float[] out = new float[3 * 9 * 9];
        Geometric.resample(c, new CropBox(2, 3, 8, 15), 9, out, new Scratch());
        for (int i = 0; i < out.length; i++) {
            assertEquals(i < 81 ? 0.25f : i < 162 ? 0.5f : 1f, out[i], 1e-6f);
        }
        RgbImage r = TestImages.random(10, 10, 3);
        float[] same = new float[300];
        Geometric.resample(r, new CropBox(0, 0, 10, 10), 10, same, new Scratch());
        assertArrayEquals(r.chw(), same);
    }

    @Test
    void shouldResampleTheBoxOnly() {
        // Left half black, right half white: a crop of the right half is all white.
        float[] chw = new float[3 * 8 * 8];
        for (int i = 0; i < chw.length; i++) {
            chw[i] = (i % 8) >= 4 ? 1f : 0f;
        }
        float[] out = new float[3 * 6 * 6];
        Geometric.resample(new RgbImage(8, 8, chw), new CropBox(1, 4, 5, 4), 6, out, new Scratch());
        for (float v : out) {
            assertEquals(1f, v, 1e-6f);
        }
    }

    /** PIL's two passes written a pixel at a time: the horizontal one row by row, then the vertical one. */
    private static float[] referenceResample(RgbImage src, CropBox box, int outW, int outH) {
        int srcW = src.width();
        int srcH = src.height();
        float[] in = src.chw();
        int bw = box.width();
        int bh = box.height();
        int[] bx = new int[2 * outW];
        float[] kx = new float[outW * (bw * 2 + 5)];
        int ksx = Geometric.coefficients(bw, outW, kx, bx);
        float[] tmp = new float[3 * bh * outW];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < bh; y++) {
                int rowStart = (c * srcH + box.top() + y) * srcW + box.left();
                for (int x = 0; x < outW; x++) {
                    float sum = 0f;
                    for (int k = 0; k < bx[2 * x + 1]; k++) {
                        sum += in[rowStart + bx[2 * x] + k] * kx[x * ksx + k];
                    }
                    tmp[(c * bh + y) * outW + x] = Geometric.clamp01(sum);
                }
            }
        }
        int[] by = new int[2 * outH];
        float[] ky = new float[outH * (bh * 2 + 5)];
        int ksy = Geometric.coefficients(bh, outH, ky, by);
        float[] dst = new float[3 * outH * outW];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < outH; y++) {
                for (int x = 0; x < outW; x++) {
                    float sum = 0f;
                    for (int k = 0; k < by[2 * y + 1]; k++) {
                        sum += tmp[(c * bh + by[2 * y] + k) * outW + x] * ky[y * ksy + k];
                    }
                    dst[(c * outH + y) * outW + x] = Geometric.clamp01(sum);
                }
            }
        }
        return dst;
    }

    @Test
    void resampleShouldGiveTheFloatsOfThePassesWrittenPixelByPixel() {
        SplittableRandom r = new SplittableRandom(9);
        float[] chw = new float[3 * 61 * 47];
        for (int i = 0; i < chw.length; i++) {
            chw[i] = (float) r.nextDouble();
        }
        RgbImage img = new RgbImage(61, 47, chw);
        Scratch scratch = new Scratch();
        // shrinking, enlarging, heights whose 3 x rows are and are not multiples of 4, a one-row box
        int[][] cases = {{0, 0, 47, 61, 24}, {5, 7, 13, 20, 32}, {2, 3, 11, 9, 5}, {10, 1, 1, 30, 7}, {3, 3, 40, 50, 40}
        };
        for (int[] c : cases) {
            CropBox box = new CropBox(c[0], c[1], c[2], c[3]);
            float[] got = new float[3 * c[4] * c[4]];
            Geometric.resample(img, box, c[4], got, scratch);
            assertArrayEquals(referenceResample(img, box, c[4], c[4]), got, box + " to " + c[4]);
        }
    }
}
