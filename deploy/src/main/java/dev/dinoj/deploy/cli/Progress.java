package dev.dinoj.deploy.cli;

import java.io.PrintStream;
import java.util.Locale;

/** A one-line progress bar on stderr when it is a terminal; silent otherwise (log lines carry the progress). */
final class Progress {

    private final String label;
    private final PrintStream out = System.err;
    private final boolean tty = System.console() != null;
    private final long start = System.nanoTime();
    private long lastDraw;

    Progress(String label) {
        this.label = label;
    }

    void update(long done, long total, String info) {
        if (!tty) {
            return;
        }
        long now = System.nanoTime();
        if (now - lastDraw < 200_000_000L && done < total) {
            return;
        }
        lastDraw = now;
        int width = 30;
        int filled = total <= 0 ? 0 : (int) Math.min(width, width * done / total);
        double elapsed = (now - start) / 1e9;
        double eta = done <= 0 ? 0 : elapsed / done * (total - done);
        out.printf(Locale.ROOT, "\r%s [%s%s] %d/%d %s  %s ETA %s ", label, "#".repeat(filled), ".".repeat(width - filled),
                done, total, info, hms(elapsed), hms(eta));
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
