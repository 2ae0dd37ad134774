package dev.dinoj.pipeline.storage;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs an asynchronous storage operation again after transient failures ({@link StorageException#isTransient()}),
 * with the exponential backoff of {@link RetrySettings}. Permanent failures and the last transient one are passed
 * through unchanged.
 */
public final class Retry {
  private static final Logger log = LoggerFactory.getLogger(Retry.class);
  /** Retries done by this JVM, for tests and summaries. */
  private static final AtomicLong RETRIES = new AtomicLong();

  private Retry() {
  }

  /** Number of retries this JVM has made so far. */
  public static long retries() {
    return RETRIES.get();
  }

  /**
   * Runs {@code op} until it succeeds, fails permanently, or {@code settings.attempts()} tries are spent.
   *
   * @param what names the operation in log lines ("GET s3://b/k")
   */
  public static <T> CompletionStage<T> withBackoff(Supplier<CompletionStage<T>> op, RetrySettings settings,
      String what) {
    CompletableFuture<T> result = new CompletableFuture<>();
    attempt(op, settings, what, 1, result);
    return result;
  }

  private static <T> void attempt(Supplier<CompletionStage<T>> op, RetrySettings settings, String what, int attempt,
      CompletableFuture<T> result) {
    CompletionStage<T> stage;
    try {
      stage = op.get();
    } catch (RuntimeException e) {
      stage = CompletableFuture.failedFuture(e);
    }
    stage.whenComplete((value, error) -> {
      if (error == null) {
        result.complete(value);
        return;
      }
      Throwable cause = unwrap(error);
      if (!isTransient(cause) || attempt >= settings.attempts()) {
        result.completeExceptionally(cause);
        return;
      }
      long delay = (long) (settings.backoff(attempt).toMillis()
          * (1 + settings.randomFactor() * ThreadLocalRandom.current().nextDouble()));
      RETRIES.incrementAndGet();
      if (attempt == 1 || attempt == settings.attempts() - 1) {
        log.warn("{}: transient failure [{}], try [{}] of [{}] in [{}] ms", what, cause.getMessage(), attempt + 1,
            settings.attempts(), delay);
      } else if (log.isDebugEnabled()) {
        log.debug("{}: transient failure [{}], retry [{}] in [{}] ms", what, cause.getMessage(), attempt + 1, delay);
      }
      CompletableFuture.delayedExecutor(delay, TimeUnit.MILLISECONDS)
          .execute(() -> attempt(op, settings, what, attempt + 1, result));
    });
  }

  /** True for failures worth retrying: {@link StorageException} says so; anything else unknown is treated as not. */
  static boolean isTransient(Throwable t) {
    return t instanceof StorageException se && se.isTransient();
  }

  /** Strips {@code CompletionException}/{@code ExecutionException} wrappers. */
  public static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }
}
