package dev.dinoj.pipeline.storage;

import akka.stream.alpakka.s3.RetrySettings;
import java.time.Duration;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * Tries a whole storage operation again after a transient failure, with exponential backoff: for work made of many
 * requests (a listing of a large pool) that Alpakka S3's per-request retries cannot finish, e.g. a connection cut
 * between pages or a 503 after its retries. Failures a retry cannot fix (404, 403 and other 4xx) end it at once.
 */
public final class Backoff {
    private Backoff() {}

    /**
     * Runs {@code work} up to {@code attempts} times, sleeping {@code min}, 2·min, … (at most {@code max}) between tries
     * after a transient failure ({@link StorageException#isTransient()} or any non-storage runtime failure).
     *
     * @param onRetry told the failed attempt (1-based) and its cause before each sleep
     * @throws RuntimeException the last failure
     */
    public static <T> T retry(
            int attempts, Duration min, Duration max, Supplier<T> work, BiConsumer<Integer, Throwable> onRetry) {
        if (attempts < 1) {
            throw new IllegalArgumentException("attempts must be >= 1: " + attempts);
        }
        Duration delay = min;
        for (int attempt = 1; ; attempt++) {
            try {
                return work.get();
            } catch (RuntimeException e) {
                Throwable cause = StorageException.unwrap(e);
                boolean transientFailure = !(cause instanceof StorageException se) || se.isTransient();
                if (!transientFailure || attempt >= attempts) {
                    throw e;
                }
                onRetry.accept(attempt, cause);
                try {
                    Thread.sleep(delay.toMillis());
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                delay = delay.multipliedBy(2).compareTo(max) > 0 ? max : delay.multipliedBy(2);
            }
        }
    }

    /** {@link #retry} with the tries and backoff of {@code dinoj.storage.retry}. */
    public static <T> T retry(RetrySettings s, Supplier<T> work, BiConsumer<Integer, Throwable> onRetry) {
        return retry(s.getMaxRetries() + 1, s.getMinBackoff(), s.getMaxBackoff(), work, onRetry);
    }
}
