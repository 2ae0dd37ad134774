package dev.dinoj.testkit;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/** {@code System.out} and {@code System.err} captured while a piece of code runs (a CLI command, a report). */
public final class StdStreams {
    private static final Object LOCK = new Object();

    private StdStreams() {}

    /**
     * What a call returned and what it printed.
     *
     * @param value what the call returned
     * @param out   everything written to {@code System.out}, UTF-8
     * @param err   everything written to {@code System.err}, UTF-8
     */
    public record Captured<T>(T value, String out, String err) {}

    /**
     * Runs {@code body} with {@code System.out} and {@code System.err} redirected to buffers, then puts the JVM's
     * streams back (also when it throws). Captures are serialised JVM-wide: the streams are global.
     */
    public static <T> Captured<T> capture(Supplier<T> body) {
        synchronized (LOCK) {
            PrintStream oldOut = System.out;
            PrintStream oldErr = System.err;
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            T value;
            try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                    PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
                System.setOut(o);
                System.setErr(e);
                try {
                    value = body.get();
                } finally {
                    System.out.flush();
                    System.err.flush();
                    System.setOut(oldOut);
                    System.setErr(oldErr);
                }
            }
            return new Captured<>(value, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        }
    }
}
