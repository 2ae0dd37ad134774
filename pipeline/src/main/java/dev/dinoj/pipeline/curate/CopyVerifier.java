package dev.dinoj.pipeline.curate;

import java.util.Arrays;

/**
 * The verification step of {@link AlignedCopyDetector}: is grey thumbnail {@code B} a deterministic edit of thumbnail
 * {@code A} — a crop or zoom (scale and offset per axis), possibly mirrored, with brightness and contrast — up to noise,
 * JPEG and resampling error? The model is {@code B(u, v) ≈ g · A(sx·u' + tx, sy·v + ty) + c} with {@code u' = 1 − u}
 * when mirrored (normalised coordinates, pixel centres at {@code (i + 0.5) / side}), A sampled bilinearly. Starting
 * from the retrieval's coarse alignment, the four geometric parameters are refined by Gauss-Newton (forward-additive
 * Lucas-Kanade) with gain {@code g} and bias {@code c} solved jointly in closed form each iteration, coarse to fine:
 * first on both images blurred (σ of {@link #SIGMAS}, which widens the basin), then sharper. The coarsest level runs
 * from the start and from its mirror image (the start's flip can be wrong for a symmetric item) and the better one is
 * refined; a pair scoring below {@link #GIVE_UP} there stops. The pair is then scored on the common support only — B's
 * interior (a {@link #BORDER}-pixel border, where padding lives, left out) where the map lands inside A's interior: A
 * is warped onto B's grid after the two pixel footprints are equalised, both are blurred by {@link #SCORE_SIGMA} with
 * normalised convolution over that support (so neither padding nor A's outside bleeds in), a tone curve of degree
 * {@link #TONE_DEGREE} (brightness, contrast and their clipping) is fitted by least squares, and
 * {@code score = 1 − rms(residual) / std(B)}. A true copy leaves noise, JPEG and resampling error; two distinct items
 * of the same outline leave their differing detail. The caller tries both directions of a pair (either could be the
 * crop) and keeps the better.
 *
 * <p>Not thread-safe (scratch buffers); use one instance per thread.
 */
final class CopyVerifier {
    /** Blur of each alignment level (Gaussian σ in thumbnail pixels), coarse to fine. */
    static final double[] SIGMAS = {1.5, 0.8, 0.0};
    /** Blur of the score, applied on the common support after the warp. */
    static final double SCORE_SIGMA = 1.2;
    /** Degree of the tone curve (brightness, contrast and their clipping) fitted before the residual. */
    static final int TONE_DEGREE = 3;
    /**
     * A pair scoring below this on the coarsest level is not refined further (true copies score above 0.85 there).
     */
    static final double GIVE_UP = 0.7;
    /** Gauss-Newton iterations per level. */
    static final int[] ITERATIONS = {6, 5, 4};
    /** Pixels of B's border left out (2-px padding of a 32-px image is 1.5 px of a 24-px thumbnail). */
    static final int BORDER = 2;
    /** Pixels of A's border the map must stay clear of. */
    static final double A_MARGIN = 1.0;
    /** Smallest fraction of B's interior that must map inside A. */
    static final double MIN_COVERAGE = 0.5;
    /** Scale range (either direction). */
    static final double MIN_SCALE = 0.55;

    static final double MAX_SCALE = 1 / MIN_SCALE;

    private final int side;
    private final int plane;
    /**
     * The prepared images of the last two rows verified (a pair's two images: each verification of a pair, in either
     * direction and from each hint, reuses them): raw thumbnail, blurred levels and their gradients.
     */
    private final Prepared[] slots;
    /** The slot prepared longest ago (replaced next). */
    private int oldest;

    private float[][] aLev;
    private float[][] aGx;
    private float[][] aGy;
    private float[][] bLev;
    private float[] rawA;
    private float[] rawB;
    private final float[] tmp;
    private final float[] wA, wB, mask, bA, bB, bM, matchedA, matchedB, xs, ys;
    /** The samples of the last {@link #map}: B's pixel, A's bilinear corner and weights, B's coordinates. */
    private final int[] mapB, mapA;

    private final double[] mapWx, mapWy, mapU, mapV;
    private final double[][] kernels;
    private final double[] m = new double[36];
    private final double[] r = new double[6];

    /** The parameters {@link #verify} ended at: {sx, tx, sy, ty}. */
    final double[] last = new double[4];

    CopyVerifier(int side) {
        this.side = side;
        this.plane = side * side;
        this.slots = new Prepared[] {new Prepared(), new Prepared()};
        int levels = SIGMAS.length;
        tmp = new float[plane];
        wA = new float[plane];
        wB = new float[plane];
        mask = new float[plane];
        bA = new float[plane];
        bB = new float[plane];
        bM = new float[plane];
        matchedA = new float[plane];
        matchedB = new float[plane];
        xs = new float[plane];
        ys = new float[plane];
        mapB = new int[plane];
        mapA = new int[plane];
        mapWx = new double[plane];
        mapWy = new double[plane];
        mapU = new double[plane];
        mapV = new double[plane];

        kernels = new double[levels][];
        for (int l = 0; l < levels; l++) {
            kernels[l] = gaussian(SIGMAS[l]);
        }
    }

    /**
     * The score (higher is more alike; at most 1, -1 when the alignment fails) of B (row {@code bi} of {@code data}) as
     * an edit of A (row {@code ai}) from the starting alignment {@code start} (A's coordinate as a function of B's).
     * The last two images' preparation is reused for the same array and row: a caller must not change the rows of an
     * array between calls.
     */
    float verify(float[] data, int ai, int bi, Start start) {
        Prepared a = prepared(data, ai);
        Prepared b = prepared(data, bi);
        aLev = a.lev;
        aGx = a.gx;
        aGy = a.gy;
        rawA = a.raw;
        bLev = b.lev;
        rawB = b.raw;
        double[] p = {start.sx(), start.tx(), start.sy(), start.ty()};
        boolean flip = start.flip();
        // the coarsest level runs from both mirror states: a symmetric garment or object matches nearly as well
        // mirrored, so the descriptors' hint can hold the wrong one; the better of the two is refined
        double[] q = p.clone();
        double coarse = coarse(p, flip);
        double mirrored = coarse(q, !flip);
        if (mirrored > coarse) {
            p = q;
            flip = !flip;
            coarse = mirrored;
        }
        if (coarse < GIVE_UP) {
            System.arraycopy(p, 0, last, 0, 4);
            return (float) Math.min(coarse, GIVE_UP);
        }
        for (int l = 1; l < SIGMAS.length; l++) {
            for (int it = 0; it < ITERATIONS[l]; it++) {
                if (!step(l, p, flip)) {
                    return -1;
                }
            }
        }
        System.arraycopy(p, 0, last, 0, 4);
        // equalise the pixel footprints before the warp: A's pixels appear 1/s of B's wide, so the finer side gets
        // the difference of the two box variances as a Gaussian
        double[] sa = new double[2];
        double[] sb = new double[2];
        for (int axis = 0; axis < 2; axis++) {
            double sc = p[2 * axis];
            sa[axis] = sc < 1 ? 0 : Math.sqrt((sc * sc - 1) / 12);
            sb[axis] = sc < 1 ? Math.sqrt((1 / (sc * sc) - 1) / 12) : 0;
        }
        blur(rawA, 0, matchedA, gaussian(sa[0]), gaussian(sa[1]));
        blur(rawB, 0, matchedB, gaussian(sb[0]), gaussian(sb[1]));
        return (float) warpedScore(matchedA, matchedB, p, flip);
    }

    /** Refines {@code p} at the coarsest level; its score there, or -1 when the alignment fails. */
    private double coarse(double[] p, boolean flip) {
        for (int it = 0; it < ITERATIONS[0]; it++) {
            if (!step(0, p, flip)) {
                return -1;
            }
        }
        return score(0, p, flip);
    }

    /**
     * An alignment: {@code o = sx·u + tx}, {@code o = sy·v + ty} from B's (mirrored when {@code flip}) normalised
     * coordinates to A's.
     */
    record Start(float sx, float tx, float sy, float ty, boolean flip) {}

    /** The parameters of the inverse map (B's coordinate as a function of A's) of {@code s}. */
    static Start inverse(Start s) {
        float sx = 1 / s.sx();
        float tx = s.flip() ? 1 - (1 - s.tx()) / s.sx() : -s.tx() / s.sx();
        return new Start(sx, tx, 1 / s.sy(), -s.ty() / s.sy(), s.flip());
    }

    /** One image prepared for {@link #verify}: its raw thumbnail, its blurred levels and their gradients. */
    private final class Prepared {
        /** The array the image came from, weakly: a verifier left in a thread-local does not keep a batch alive. */
        java.lang.ref.WeakReference<float[]> data = new java.lang.ref.WeakReference<>(null);

        int row = -1;
        final float[] raw = new float[plane];
        final float[][] lev = new float[SIGMAS.length][plane];
        final float[][] gx = new float[SIGMAS.length][plane];
        final float[][] gy = new float[SIGMAS.length][plane];
    }

    /** Row {@code row} of {@code data} prepared: one of the two slots, computed when it holds another image. */
    private Prepared prepared(float[] data, int row) {
        for (int k = 0; k < slots.length; k++) {
            if (slots[k].row == row && slots[k].data.get() == data) {
                oldest = 1 - k;
                return slots[k];
            }
        }
        Prepared p = slots[oldest];
        oldest = 1 - oldest;
        System.arraycopy(data, row * plane, p.raw, 0, plane);
        for (int l = 0; l < SIGMAS.length; l++) {
            blur(p.raw, 0, p.lev[l], kernels[l]);
            gradient(p.lev[l], p.gx[l], p.gy[l]);
        }
        p.data = new java.lang.ref.WeakReference<>(data);
        p.row = row;
        return p;
    }

    /** One Gauss-Newton step at level {@code l}; false when too little of B maps into A or the fit degenerates. */
    private boolean step(int l, double[] p, boolean flip) {
        double[] m = this.m;
        double[] r = this.r;
        Arrays.fill(m, 0);
        Arrays.fill(r, 0);
        float[] a = aLev[l];
        float[] gxs = aGx[l];
        float[] gys = aGy[l];
        float[] b = bLev[l];
        int s = side;
        int count = map(p, flip);
        if (count < 0) {
            return false;
        }
        double[] f = new double[6];
        for (int k = 0; k < count; k++) {
            int o = mapA[k];
            double wx = mapWx[k];
            double wy = mapWy[k];
            double gx = bilinear(gxs, o, s, wx, wy) * s;
            double gy = bilinear(gys, o, s, wx, wy) * s;
            f[0] = bilinear(a, o, s, wx, wy);
            f[1] = 1;
            f[2] = gx * mapU[k];
            f[3] = gx;
            f[4] = gy * mapV[k];
            f[5] = gy;
            double t = b[mapB[k]];
            for (int x = 0; x < 6; x++) {
                double fx = f[x];
                r[x] += fx * t;
                for (int y = 0; y <= x; y++) {
                    m[x * 6 + y] += fx * f[y];
                }
            }
        }
        double[] c = Cholesky.solve(m, r, 6);
        if (c == null || !(c[0] > 1e-3)) {
            return false;
        }
        double g = c[0];
        for (int k = 0; k < 4; k++) {
            double d = c[2 + k] / g;
            p[k] += Math.max(-0.1, Math.min(0.1, d));
        }
        return p[0] >= MIN_SCALE && p[0] <= MAX_SCALE && p[2] >= MIN_SCALE && p[2] <= MAX_SCALE;
    }

    /**
     * Samples B's interior pixels whose map lands inside A's interior (the {@code map*} arrays); their count, or -1
     * when fewer than {@link #MIN_COVERAGE} of the interior do.
     */
    private int map(double[] p, boolean flip) {
        int s = side;
        double lo = A_MARGIN;
        double hi = s - 1 - A_MARGIN;
        int n = 0;
        for (int j = BORDER; j < s - BORDER; j++) {
            double v = (j + 0.5) / s;
            double py = (p[2] * v + p[3]) * s - 0.5;
            if (py < lo || py > hi) {
                continue;
            }
            int iy = Math.min((int) py, s - 2);
            for (int i = BORDER; i < s - BORDER; i++) {
                double u = (i + 0.5) / s;
                double uu = flip ? 1 - u : u;
                double px = (p[0] * uu + p[1]) * s - 0.5;
                if (px < lo || px > hi) {
                    continue;
                }
                int ix = Math.min((int) px, s - 2);
                mapB[n] = j * s + i;
                mapA[n] = iy * s + ix;
                mapWx[n] = px - ix;
                mapWy[n] = py - iy;
                mapU[n] = uu;
                mapV[n] = v;
                n++;
            }
        }
        int interior = (s - 2 * BORDER) * (s - 2 * BORDER);
        return n < MIN_COVERAGE * interior ? -1 : n;
    }

    /** {@code 1 − rms / std(B)} after the closed-form gain/bias fit at level {@code l}. */
    private double score(int l, double[] p, boolean flip) {
        return score(aLev[l], bLev[l], p, flip);
    }

    /**
     * A warped onto B's grid, then both blurred (σ {@link #SCORE_SIGMA}) over their common support only (B's interior
     * where the map lands inside A: normalised convolution, so neither padding nor A's outside bleeds in), then the
     * tone-curve residual score.
     */
    private double warpedScore(float[] a, float[] b, double[] p, boolean flip) {
        Arrays.fill(wA, 0, plane, 0f);
        Arrays.fill(wB, 0, plane, 0f);
        Arrays.fill(mask, 0, plane, 0f);
        int count = map(p, flip);
        if (count < 0) {
            return -1;
        }
        for (int k = 0; k < count; k++) {
            int q = mapB[k];
            wA[q] = (float) bilinear(a, mapA[k], side, mapWx[k], mapWy[k]);
            wB[q] = b[q];
            mask[q] = 1f;
        }
        double[] k = gaussian(SCORE_SIGMA);
        blur(wA, 0, bA, k);
        blur(wB, 0, bB, k);
        blur(mask, 0, bM, k);
        int n = 0;
        double sb = 0;
        double sbb = 0;
        for (int q = 0; q < plane; q++) {
            if (mask[q] > 0) {
                float x = bA[q] / bM[q];
                float y = bB[q] / bM[q];
                xs[n] = x;
                ys[n] = y;
                sb += y;
                sbb += y * y;
                n++;
            }
        }
        double vb = sbb - sb * sb / n;
        if (vb <= 1e-12) {
            return -1;
        }
        return toneScore(n, vb);
    }

    private double score(float[] a, float[] b, double[] p, boolean flip) {
        int n = map(p, flip);
        if (n < 0) {
            return -1;
        }
        double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
        for (int k = 0; k < n; k++) {
            double x = bilinear(a, mapA[k], side, mapWx[k], mapWy[k]);
            double y = b[mapB[k]];
            sa += x;
            sb += y;
            saa += x * x;
            sbb += y * y;
            sab += x * y;
        }
        double va = saa - sa * sa / n;
        double vb = sbb - sb * sb / n;
        double cov = sab - sa * sb / n;
        if (va <= 1e-12 || vb <= 1e-12 || cov <= 0) {
            return -1;
        }
        double residual = Math.max(0, vb - cov * cov / va);
        return 1 - Math.sqrt(residual / vb);
    }

    /** {@code 1 − rms / std} of B after a least-squares tone curve (polynomial of degree {@link #TONE_DEGREE}) of A. */
    private double toneScore(int n, double vb) {
        int d = TONE_DEGREE + 1;
        double[] mm = new double[d * d];
        double[] rr = new double[d];
        double[] f = new double[d];
        // standardise x for conditioning
        double mean = 0;
        double sq = 0;
        for (int q = 0; q < n; q++) {
            mean += xs[q];
            sq += xs[q] * xs[q];
        }
        mean /= n;
        double sd = Math.sqrt(Math.max(1e-12, sq / n - mean * mean));
        for (int q = 0; q < n; q++) {
            double x = (xs[q] - mean) / sd;
            f[0] = 1;
            for (int k = 1; k < d; k++) {
                f[k] = f[k - 1] * x;
            }
            for (int a = 0; a < d; a++) {
                rr[a] += f[a] * ys[q];
                for (int b = 0; b <= a; b++) {
                    mm[a * d + b] += f[a] * f[b];
                }
            }
        }
        double[] c = Cholesky.solve(mm, rr, d);
        if (c == null || !(c[1] > 0)) {
            return -1;
        }
        double err = 0;
        for (int q = 0; q < n; q++) {
            double x = (xs[q] - mean) / sd;
            double pred = 0;
            for (int k = d - 1; k >= 0; k--) {
                pred = pred * x + c[k];
            }
            err += (ys[q] - pred) * (ys[q] - pred);
        }
        return 1 - Math.sqrt(err / vb);
    }

    private static double bilinear(float[] img, int o, int s, double wx, double wy) {
        double top = img[o] + wx * (img[o + 1] - img[o]);
        double bot = img[o + s] + wx * (img[o + s + 1] - img[o + s]);
        return top + wy * (bot - top);
    }

    /** Separable Gaussian blur (edges clamped) of the thumbnail at {@code off} into {@code out}. */
    private void blur(float[] data, int off, float[] out, double[] k) {
        blur(data, off, out, k, k);
    }

    /** Separable blur with kernel {@code kx} along x and {@code ky} along y, edges clamped. */
    private void blur(float[] data, int off, float[] out, double[] kx, double[] ky) {
        int s = side;
        if (kx.length == 1 && ky.length == 1) {
            System.arraycopy(data, off, out, 0, plane);
            return;
        }
        int rad = kx.length / 2;
        for (int y = 0; y < s; y++) {
            for (int x = 0; x < s; x++) {
                double acc = 0;
                for (int t = -rad; t <= rad; t++) {
                    acc += kx[t + rad] * data[off + y * s + Math.max(0, Math.min(s - 1, x + t))];
                }
                tmp[y * s + x] = (float) acc;
            }
        }
        rad = ky.length / 2;
        for (int y = 0; y < s; y++) {
            for (int x = 0; x < s; x++) {
                double acc = 0;
                for (int t = -rad; t <= rad; t++) {
                    acc += ky[t + rad] * tmp[Math.max(0, Math.min(s - 1, y + t)) * s + x];
                }
                out[y * s + x] = (float) acc;
            }
        }
    }

    /** Central differences (one-sided at the edges), per pixel. */
    private void gradient(float[] img, float[] gx, float[] gy) {
        int s = side;
        for (int y = 0; y < s; y++) {
            for (int x = 0; x < s; x++) {
                int x0 = Math.max(0, x - 1);
                int x1 = Math.min(s - 1, x + 1);
                int y0 = Math.max(0, y - 1);
                int y1 = Math.min(s - 1, y + 1);
                gx[y * s + x] = (img[y * s + x1] - img[y * s + x0]) / (x1 - x0);
                gy[y * s + x] = (img[y1 * s + x] - img[y0 * s + x]) / (y1 - y0);
            }
        }
    }

    private static double[] gaussian(double sigma) {
        if (sigma <= 0.05) {
            return new double[] {1};
        }
        int rad = (int) Math.ceil(2.5 * sigma);
        double[] k = new double[2 * rad + 1];
        double sum = 0;
        for (int t = -rad; t <= rad; t++) {
            k[t + rad] = Math.exp(-t * t / (2 * sigma * sigma));
            sum += k[t + rad];
        }
        for (int t = 0; t < k.length; t++) {
            k[t] /= sum;
        }
        return k;
    }
}
