package dev.dinoj.pipeline.storage;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;

/**
 * Retries of transient storage failures: exponential backoff from {@code minBackoff}, doubling up to
 * {@code maxBackoff}, with {@code randomFactor} jitter, at most {@code attempts} tries in all.
 *
 * @param attempts     total tries (1 = no retry)
 * @param minBackoff   delay before the second try
 * @param maxBackoff   cap of the delay
 * @param randomFactor each delay is multiplied by a factor in [1, 1 + randomFactor]
 */
public record RetrySettings(int attempts, Duration minBackoff, Duration maxBackoff, double randomFactor) {
  public RetrySettings {
    if (attempts < 1) {
      throw new ConfigException.BadValue("dinoj.storage.retry.attempts", "must be >= 1: " + attempts);
    }
    if (minBackoff.isNegative() || maxBackoff.compareTo(minBackoff) < 0) {
      throw new ConfigException.BadValue("dinoj.storage.retry.max-backoff",
          "must be >= min-backoff >= 0: " + minBackoff + ", " + maxBackoff);
    }
    if (randomFactor < 0) {
      throw new ConfigException.BadValue("dinoj.storage.retry.random-factor", "must be >= 0: " + randomFactor);
    }
  }

  /** The defaults of {@code reference.conf}: 8 tries, 200 ms doubling to 10 s, 20 % jitter (about 40 s in all). */
  public static RetrySettings defaults() {
    return new RetrySettings(8, Duration.ofMillis(200), Duration.ofSeconds(10), 0.2);
  }

  /** Reads {@code attempts}, {@code min-backoff}, {@code max-backoff}, {@code random-factor}. */
  public static RetrySettings fromConfig(Config c) {
    return new RetrySettings(c.getInt("attempts"), c.getDuration("min-backoff"), c.getDuration("max-backoff"),
        c.getDouble("random-factor"));
  }

  /** The delay before try {@code attempt + 1} (attempt counts from 1), without jitter. */
  public Duration backoff(int attempt) {
    long min = minBackoff.toMillis();
    long ms = min << Math.min(30, Math.max(0, attempt - 1));
    return Duration.ofMillis(Math.min(ms < 0 ? Long.MAX_VALUE : ms, maxBackoff.toMillis()));
  }
}
