package dev.dinoj.deploy.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A one-line progress bar on stderr when it is a terminal; otherwise a plain progress line every
 * {@value #PLAIN_EVERY_SECONDS} s (logs and CI output stay readable).
 */
final class Progress {

    private final String label;
    private final PrintStream out = System.err;
    private final boolean tty = System.console() != null;
    private final long start = System.nanoTime();
    private long lastDraw;

    Progress(String label) {
        this.label = label;
    }

    static final int PLAIN_EVERY_SECONDS = 20;

    void update(long done, long total, String info) {
        long now = System.nanoTime();
        if (!tty) {
            if (now - lastDraw >= PLAIN_EVERY_SECONDS * 1_000_000_000L
                    && now - start >= PLAIN_EVERY_SECONDS * 1_000_000_000L) {
                lastDraw = now;
                out.printf(Locale.ROOT, "%s %d/%d %s  %s%n", label, done, total, info, hms((now - start) / 1e9));
            }
            return;
        }
        if (now - lastDraw < 200_000_000L && done < total) {
            return;
        }
        lastDraw = now;
        int width = 30;
        int filled = total <= 0 ? 0 : (int) Math.min(width, width * done / total);
        double elapsed = (now - start) / 1e9;
        double eta = done <= 0 ? 0 : elapsed / done * (total - done);
        out.printf(
                Locale.ROOT,
                "\r%s [%s%s] %d/%d %s  %s ETA %s ",
                label,
                "#".repeat(filled),
                ".".repeat(width - filled),
                done,
                total,
                info,
                hms(elapsed),
                hms(eta));
        out.flush();
    }

    void done() {
        if (tty) {
            out.println();
        }
    }

    private static String hms(double s) {
        long t = (long) s;
        return String.format(Locale.ROOT, "%d:%02d:%02d", t / 3600, (t / 60) % 60, t % 60);
    }
}
