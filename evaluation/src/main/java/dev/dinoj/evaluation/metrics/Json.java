package dev.dinoj.evaluation.metrics;

import java.util.Locale;

/** Tiny helpers for the one-line JSON results every protocol prints (Jackson reads them back). */
public final class Json {

    private Json() {
    }

    /**
     * A number with 4 decimals, or {@code null} when not finite.
     *
     * @param v the value
     * @return its JSON text
     */
    public static String num(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.4f", v) : "null";
    }

    /**
     * A number in full precision ({@code %.6g}), or {@code null} when not finite.
     *
     * @param v the value
     * @return its JSON text
     */
    public static String sci(double v) {
        return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "null";
    }

    /**
     * A quoted, escaped string.
     *
     * @param s the string
     * @return its JSON text
     */
    public static String str(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
