package dev.dinoj.pipeline.shards;

/**
 * IEEE 754 binary16 ("half", numpy's {@code float16}) to and from float, rounding to nearest even as numpy does (Java
 * 17 has no {@code Float.floatToFloat16}).
 */
public final class Float16 {
    private static final float[] TO_FLOAT = new float[65536];

    static {
        for (int h = 0; h < 65536; h++) {
            TO_FLOAT[h] = decode(h);
        }
    }

    private Float16() {}

    /** The float value of the half {@code h} (its 16 bits). */
    public static float toFloat(short h) {
        return TO_FLOAT[h & 0xffff];
    }

    private static float decode(int h) {
        int sign = (h >>> 15) & 1;
        int e = (h >>> 10) & 0x1f;
        int m = h & 0x3ff;
        float v;
        if (e == 0) {
            v = Math.scalb((float) m, -24);
        } else if (e == 31) {
            v = m == 0 ? Float.POSITIVE_INFINITY : Float.NaN;
        } else {
            v = Math.scalb(1f + m / 1024f, e - 15);
        }
        return sign == 1 ? -v : v;
    }

    /** The half nearest to {@code f} (ties to even; overflow to infinity; NaN stays NaN). */
    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int val = bits & 0x7fffffff;
        if (val >= 0x7f800000) {
            return (short) (sign | 0x7c00 | (val > 0x7f800000 ? 0x200 | ((val >>> 13) & 0x3ff) : 0));
        }
        if (val >= 0x477ff000) { // 65520 and above round to infinity
            return (short) (sign | 0x7c00);
        }
        if (val < 0x38800000) { // below 2^-14: a subnormal half (or zero), m · 2^-24
            float a = Float.intBitsToFloat(val);
            int m = (int) Math.rint(a * 16777216f); // exact scaling by 2^24, ties to even
            return (short) (sign | m);
        }
        int h = (((val >>> 23) - 112) << 10) | ((val & 0x7fffff) >>> 13);
        int rem = val & 0x1fff;
        if (rem > 0x1000 || (rem == 0x1000 && (h & 1) != 0)) {
            h++; // a carry into the exponent is the right result
        }
        return (short) (sign | h);
    }

    /** {@code f} rounded to the nearest half and back (what a float16 shard gives back). */
    public static float round(float f) {
        return toFloat(fromFloat(f));
    }
}
