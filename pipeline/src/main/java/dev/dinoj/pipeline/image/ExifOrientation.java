package dev.dinoj.pipeline.image;

/**
 * The EXIF orientation tag (0x0112) of a JPEG (APP1 {@code Exif}), PNG ({@code eXIf} chunk) or WebP ({@code EXIF}
 * chunk): 1 = upright, 2..8 = the mirrored/rotated ways a camera stores pixels. Cameras and phones write the sensor's
 * pixels and this tag instead of rotating, so a decoder that ignores it gives sideways photos. Reading never throws:
 * anything malformed is 1.
 */
public final class ExifOrientation {
    /** Pixels as stored. */
    public static final int UPRIGHT = 1;

    private ExifOrientation() {}

    /** The orientation recorded in {@code data} of {@code format} (png, jpeg, webp; others are upright). */
    public static int of(byte[] data, String format) {
        try {
            return switch (format) {
                case "jpeg" -> jpeg(data);
                case "png" -> png(data);
                case "webp" -> webp(data);
                default -> UPRIGHT;
            };
        } catch (RuntimeException e) { // a malformed segment: as stored
            return UPRIGHT;
        }
    }

    /** Whether orientation {@code o} swaps width and height (the 90° and 270° cases, mirrored or not). */
    public static boolean transposes(int o) {
        return o >= 5 && o <= 8;
    }

    private static int jpeg(byte[] d) {
        int p = 2; // after SOI
        while (p + 4 <= d.length && (d[p] & 0xff) == 0xff) {
            int marker = d[p + 1] & 0xff;
            if (marker == 0xda || marker == 0xd9) { // start of scan / end: no EXIF before the pixels
                return UPRIGHT;
            }
            if (marker == 0xff) { // fill byte
                p++;
                continue;
            }
            int len = u16be(d, p + 2);
            if (len < 2) {
                return UPRIGHT;
            }
            if (marker == 0xe1
                    && len >= 8
                    && p + 10 <= d.length
                    && d[p + 4] == 'E'
                    && d[p + 5] == 'x'
                    && d[p + 6] == 'i'
                    && d[p + 7] == 'f'
                    && d[p + 8] == 0
                    && d[p + 9] == 0) {
                return tiff(d, p + 10, Math.min(d.length, p + 2 + len));
            }
            p += 2 + len;
        }
        return UPRIGHT;
    }

    private static int png(byte[] d) {
        int p = 8;
        while (p + 12 <= d.length) {
            long len = u32be(d, p);
            if (len < 0 || p + 12 + len > d.length) {
                return UPRIGHT;
            }
            if (d[p + 4] == 'e' && d[p + 5] == 'X' && d[p + 6] == 'I' && d[p + 7] == 'f') {
                return tiff(d, p + 8, p + 8 + (int) len);
            }
            if (d[p + 4] == 'I' && d[p + 5] == 'D' && d[p + 6] == 'A' && d[p + 7] == 'T') {
                return UPRIGHT; // eXIf must come before the image data
            }
            p += 12 + (int) len;
        }
        return UPRIGHT;
    }

    private static int webp(byte[] d) {
        int p = 12;
        while (p + 8 <= d.length) {
            long len = u32le(d, p + 4);
            if (len < 0 || p + 8 + len > d.length) {
                return UPRIGHT;
            }
            if (d[p] == 'E' && d[p + 1] == 'X' && d[p + 2] == 'I' && d[p + 3] == 'F') {
                int start = p + 8;
                // some writers keep JPEG's "Exif\0\0" prefix in the chunk
                if (len >= 6 && d[start] == 'E' && d[start + 1] == 'x' && d[start + 4] == 0 && d[start + 5] == 0) {
                    start += 6;
                }
                return tiff(d, start, p + 8 + (int) len);
            }
            p += 8 + (int) ((len + 1) & ~1L); // chunks are padded to even sizes
        }
        return UPRIGHT;
    }

    /** The orientation entry of IFD0 of the TIFF structure in {@code d[start, end)}. */
    private static int tiff(byte[] d, int start, int end) {
        if (start + 8 > end) {
            return UPRIGHT;
        }
        boolean little;
        if (d[start] == 'I' && d[start + 1] == 'I') {
            little = true;
        } else if (d[start] == 'M' && d[start + 1] == 'M') {
            little = false;
        } else {
            return UPRIGHT;
        }
        long ifd = u32(d, start + 4, little);
        if (ifd < 8 || start + ifd + 2 > end) {
            return UPRIGHT;
        }
        int p = start + (int) ifd;
        int entries = u16(d, p, little);
        for (int i = 0; i < entries; i++) {
            int e = p + 2 + 12 * i;
            if (e + 12 > end) {
                return UPRIGHT;
            }
            if (u16(d, e, little) == 0x0112) {
                int type = u16(d, e + 2, little);
                int value = type == 3 ? u16(d, e + 8, little) : type == 4 ? (int) u32(d, e + 8, little) : 0;
                return value >= 1 && value <= 8 ? value : UPRIGHT;
            }
        }
        return UPRIGHT;
    }

    private static int u16(byte[] d, int p, boolean little) {
        return little ? (d[p] & 0xff) | (d[p + 1] & 0xff) << 8 : u16be(d, p);
    }

    private static long u32(byte[] d, int p, boolean little) {
        return little ? u32le(d, p) : u32be(d, p);
    }

    private static int u16be(byte[] d, int p) {
        return (d[p] & 0xff) << 8 | (d[p + 1] & 0xff);
    }

    private static long u32be(byte[] d, int p) {
        return (long) (d[p] & 0xff) << 24 | (d[p + 1] & 0xff) << 16 | (d[p + 2] & 0xff) << 8 | (d[p + 3] & 0xff);
    }

    private static long u32le(byte[] d, int p) {
        return (long) (d[p + 3] & 0xff) << 24 | (d[p + 2] & 0xff) << 16 | (d[p + 1] & 0xff) << 8 | (d[p] & 0xff);
    }
}
