package dev.dinoj.trainer.verify;

import java.util.Locale;

/** One compared quantity: its error, its tolerance and whether it passed. */
public record Check(String quantity, double error, double tolerance, String note) {

    public boolean ok() {
        return error <= tolerance && !Double.isNaN(error);
    }

    public String line() {
        return String.format(
                Locale.ROOT,
                "%-4s %-62s err=%.3e tol=%.3e%s",
                ok() ? "ok" : "FAIL",
                quantity,
                error,
                tolerance,
                note == null || note.isEmpty() ? "" : "  " + note);
    }
}
