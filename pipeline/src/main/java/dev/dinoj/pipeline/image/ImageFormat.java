package dev.dinoj.pipeline.image;

/** Recognises a file's format from its first bytes, never from its name. */
public final class ImageFormat {
    private ImageFormat() {}

    /**
     * The format of {@code d} by its magic bytes: png, jpeg, gif, bmp, webp (images ImageIO reads), gzip, idx (an IDX
     * image file) or idx-labels; null when none matches.
     */
    public static String sniff(byte[] d) {
        if (d.length >= 8
                && (d[0] & 0xff) == 0x89
                && d[1] == 'P'
                && d[2] == 'N'
                && d[3] == 'G'
                && d[4] == 0x0d
                && d[5] == 0x0a
                && d[6] == 0x1a
                && d[7] == 0x0a) {
            return "png";
        }
        if (d.length >= 3 && (d[0] & 0xff) == 0xff && (d[1] & 0xff) == 0xd8 && (d[2] & 0xff) == 0xff) {
            return "jpeg";
        }
        if (d.length >= 6
                && d[0] == 'G'
                && d[1] == 'I'
                && d[2] == 'F'
                && d[3] == '8'
                && (d[4] == '7' || d[4] == '9')
                && d[5] == 'a') {
            return "gif";
        }
        if (d.length >= 18 && d[0] == 'B' && d[1] == 'M') {
            int dib = (d[14] & 0xff) | (d[15] & 0xff) << 8 | (d[16] & 0xff) << 16 | (d[17] & 0xff) << 24;
            if (dib == 12 || dib == 40 || dib == 52 || dib == 56 || dib == 64 || dib == 108 || dib == 124) {
                return "bmp";
            }
        }
        if (d.length >= 16
                && d[0] == 'R'
                && d[1] == 'I'
                && d[2] == 'F'
                && d[3] == 'F'
                && d[8] == 'W'
                && d[9] == 'E'
                && d[10] == 'B'
                && d[11] == 'P') {
            return "webp";
        }
        if (d.length >= 2 && (d[0] & 0xff) == 0x1f && (d[1] & 0xff) == 0x8b) {
            return "gzip";
        }
        if (d.length >= 4 && d[0] == 0 && d[1] == 0 && d[2] == 0x08 && d[3] == 0x03) {
            return "idx";
        }
        if (d.length >= 4 && d[0] == 0 && d[1] == 0 && d[2] == 0x08 && d[3] == 0x01) {
            return "idx-labels";
        }
        return null;
    }

    /** Whether {@code format} (as {@link #sniff} names it) is a single picture ImageIO decodes. */
    public static boolean isPicture(String format) {
        return switch (format == null ? "" : format) {
            case "png", "jpeg", "gif", "bmp", "webp" -> true;
            default -> false;
        };
    }
}
