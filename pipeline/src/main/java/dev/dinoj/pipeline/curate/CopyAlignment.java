package dev.dinoj.pipeline.curate;

/**
 * The verification step of {@link AlignedCopyDetector}: how well one grey thumbnail is a crop, zoom, padding and/or
 * mirror image of another, up to brightness and contrast. The geometry is an axis-aligned affine map per axis from the
 * (possibly mirrored) second image's normalised coordinate {@code u} to the first's, {@code o = s·u + t} (a crop of
 * 75 % resized back is {@code s = 0.75}; 2-px padding of a 28-px image is {@code s = 32/28}); the score is the
 * normalised cross-correlation of the two images sampled bilinearly on a {@code grid × grid} lattice over the region
 * both images cover, which is invariant to brightness and contrast. A search by coordinate steps (halved when no step
 * improves) refines a starting alignment that the candidate retrieval proposes.
 *
 * <p>Not thread-safe (scratch buffers); use one instance per thread.
 */
final class CopyAlignment {
    /** Smallest fraction of each image, per axis, that the compared region must cover. */
    static final double MIN_OVERLAP = 0.7;
    /** Scale range of the search (crops of 60 % up to the inverse). */
    static final double MIN_SCALE = 0.6;

    static final double MAX_SCALE = 1 / MIN_SCALE;
    /** First step of the search in scale and offset (half the retrieval windows' spacing, about). */
    static final double FIRST_STEP = 0.04;
    /** The search stops when the step falls below this. */
    static final double LAST_STEP = 0.005;

    /** Pixels of the thumbnail kept clear of the compared region's edges. */
    static final double MARGIN = 1.0;

    private final int side;
    private final int grid;
    private final int[] aIx;
    private final int[] bIx;
    private final float[] aWx;
    private final float[] bWx;
    private final int[] aIy;
    private final int[] bIy;
    private final float[] aWy;
    private final float[] bWy;

    /** The alignment {@link #refine} ended at. */
    final double[] last = new double[4];

    boolean lastFlip;

    private final float[] va;
    private final float[] vb;
    private final float[] da;
    private final float[] db;
    private final float[] rowSum;
    private final double detailWeight;

    CopyAlignment(int side, int grid, double detailWeight) {
        this.side = side;
        this.grid = grid;
        this.detailWeight = detailWeight;
        va = new float[grid * grid];
        vb = new float[grid * grid];
        da = new float[grid * grid];
        db = new float[grid * grid];
        rowSum = new float[grid * grid];
        aIx = new int[grid];
        bIx = new int[grid];
        aWx = new float[grid];
        bWx = new float[grid];
        aIy = new int[grid];
        bIy = new int[grid];
        aWy = new float[grid];
        bWy = new float[grid];
    }

    /**
     * A starting alignment: {@code o = sx·u + tx}, {@code o = sy·v + ty} from the second image's (mirrored when
     * {@code flip}) coordinates to the first's.
     */
    record Start(float sx, float tx, float sy, float ty, boolean flip) {}

    /**
     * The best score found from {@code start}: the correlation of {@code a} (row {@code ai} of {@code data}) and
     * {@code b} (row {@code bi}) under the refined alignment, in [-1, 1].
     */
    float refine(float[] data, int ai, int bi, Start start) {
        // searched as {scale, centre} per axis: a scale step then keeps the centre where it is
        double[] p = {start.sx(), start.tx() + start.sx() / 2, start.sy(), start.ty() + start.sy() / 2};
        clampScales(p);
        int ao = ai * side * side;
        int bo = bi * side * side;
        boolean flip = start.flip();
        double w = detailWeight;
        search(data, ao, bo, p, flip, 0, FIRST_STEP, LAST_STEP);
        double best = w == 0
                ? score(data, ao, bo, p, flip, 0)
                : search(data, ao, bo, p, flip, w, FIRST_STEP / 2, LAST_STEP / 2);
        last[0] = p[0];
        last[1] = p[1] - p[0] / 2;
        last[2] = p[2];
        last[3] = p[3] - p[2] / 2;
        lastFlip = flip;
        return (float) best;
    }

    /** Coordinate steps from {@code p} (updated in place) on the score of detail weight {@code w}; the best score. */
    private double search(
            float[] data, int ao, int bo, double[] p, boolean flip, double w, double first, double lastStep) {
        double best = score(data, ao, bo, p, flip, w);
        double step = first;
        double[] q = new double[4];
        int moves = 0;
        while (step >= lastStep && moves < 64) {
            int bestD = -1;
            double bestV = best;
            for (int d = 0; d < 4; d++) {
                for (int sign = -1; sign <= 1; sign += 2) {
                    System.arraycopy(p, 0, q, 0, 4);
                    q[d] += sign * step;
                    if ((d == 0 || d == 2) && (q[d] < MIN_SCALE || q[d] > MAX_SCALE)) {
                        continue;
                    }
                    double v = score(data, ao, bo, q, flip, w);
                    if (v > bestV + 1e-6) {
                        bestV = v;
                        bestD = d * 2 + (sign + 1) / 2;
                    }
                }
            }
            if (bestD >= 0) {
                p[bestD / 2] += (bestD % 2 == 0 ? -1 : 1) * step;
                best = bestV;
                moves++;
            } else {
                step /= 2;
            }
        }
        return best;
    }

    private static void clampScales(double[] p) {
        p[0] = Math.max(MIN_SCALE, Math.min(MAX_SCALE, p[0]));
        p[2] = Math.max(MIN_SCALE, Math.min(MAX_SCALE, p[2]));
    }

    /**
     * The score under alignment {@code p = {sx, tx, sy, ty}}: the mean of the correlation of the aligned samples and
     * the correlation of their detail (each sample minus the mean of its 3×3 neighbourhood of samples, the finer
     * structure two different images of similar outline do not share); -1 where the overlap is too small.
     */
    double score(float[] data, int ao, int bo, double[] p, boolean flip, double detailWeight) {
        if (!axis(p[0], p[1] - p[0] / 2, flip, aIx, aWx, bIx, bWx)
                || !axis(p[2], p[3] - p[2] / 2, false, aIy, aWy, bIy, bWy)) {
            return -1;
        }
        int s = side;
        int g = grid;
        float[] va = this.va;
        float[] vb = this.vb;
        for (int gy = 0; gy < g; gy++) {
            int ay0 = ao + aIy[gy] * s;
            int ay1 = ay0 + s;
            float wya = aWy[gy];
            int by0 = bo + bIy[gy] * s;
            int by1 = by0 + s;
            float wyb = bWy[gy];
            for (int gx = 0; gx < g; gx++) {
                int xa = aIx[gx];
                float wxa = aWx[gx];
                float top = data[ay0 + xa] + wxa * (data[ay0 + xa + 1] - data[ay0 + xa]);
                float bot = data[ay1 + xa] + wxa * (data[ay1 + xa + 1] - data[ay1 + xa]);
                va[gy * g + gx] = top + wya * (bot - top);
                int xb = bIx[gx];
                float wxb = bWx[gx];
                float topB = data[by0 + xb] + wxb * (data[by0 + xb + 1] - data[by0 + xb]);
                float botB = data[by1 + xb] + wxb * (data[by1 + xb + 1] - data[by1 + xb]);
                vb[gy * g + gx] = topB + wyb * (botB - topB);
            }
        }
        double raw = ncc(va, vb, g * g);
        if (detailWeight == 0) {
            return raw;
        }
        boxDetail(va, da, g, rowSum);
        boxDetail(vb, db, g, rowSum);
        return (1 - detailWeight) * raw + detailWeight * ncc(da, db, g * g);
    }

    /** {@code out = v − (3×3 box mean of v)}, edges clamped. */
    private static void boxDetail(float[] v, float[] out, int g, float[] rowSum) {
        for (int y = 0; y < g; y++) {
            int r = y * g;
            for (int x = 0; x < g; x++) {
                float l = v[r + Math.max(0, x - 1)];
                float rr = v[r + Math.min(g - 1, x + 1)];
                rowSum[r + x] = l + v[r + x] + rr;
            }
        }
        for (int y = 0; y < g; y++) {
            int up = Math.max(0, y - 1) * g;
            int dn = Math.min(g - 1, y + 1) * g;
            int r = y * g;
            for (int x = 0; x < g; x++) {
                out[r + x] = v[r + x] - (rowSum[up + x] + rowSum[r + x] + rowSum[dn + x]) / 9f;
            }
        }
    }

    private static double ncc(float[] a, float[] b, int n) {
        double sa = 0;
        double sb = 0;
        double saa = 0;
        double sbb = 0;
        double sab = 0;
        for (int i = 0; i < n; i++) {
            double x = a[i];
            double y = b[i];
            sa += x;
            sb += y;
            saa += x * x;
            sbb += y * y;
            sab += x * y;
        }
        double va = saa - sa * sa / n;
        double vb = sbb - sb * sb / n;
        if (va <= 1e-12 || vb <= 1e-12) {
            return 0;
        }
        return (sab - sa * sb / n) / Math.sqrt(va * vb);
    }

    /**
     * Sampling positions along one axis: {@code grid} points spread over the overlap of the first image's [0, 1] and
     * the second's image under {@code o = sc·u + t}; false when either image would be covered less than
     * {@link #MIN_OVERLAP}.
     */
    private boolean axis(double sc, double t, boolean flip, int[] ai, float[] aw, int[] bi, float[] bw) {
        double lo = Math.max(0, t);
        double hi = Math.min(1, sc + t);
        double len = hi - lo;
        if (len < MIN_OVERLAP || len / sc < MIN_OVERLAP) {
            return false;
        }
        // keep a pixel away from either image's edge inside the overlap: padding bleeds into the edge pixels
        double margin = MARGIN / side * Math.max(1, sc);
        lo += margin;
        hi -= margin;
        len = hi - lo;
        for (int g = 0; g < grid; g++) {
            double o = lo + (g + 0.5) / grid * len;
            double u = (o - t) / sc;
            if (flip) {
                u = 1 - u;
            }
            pixel(o, ai, aw, g);
            pixel(u, bi, bw, g);
        }
        return true;
    }

    /** Bilinear tap of normalised coordinate {@code c} (pixel centres at (i + 0.5) / side), clamped to the image. */
    private void pixel(double c, int[] idx, float[] w, int g) {
        double p = c * side - 0.5;
        if (p < 0) {
            p = 0;
        } else if (p > side - 1) {
            p = side - 1;
        }
        int i = Math.min((int) p, side - 2);
        idx[g] = i;
        w[g] = (float) (p - i);
    }
}
