package dev.dinoj.trainer.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;

/**
 * Typed reads of a resolved training configuration with the full key in every error ({@link ConfigError}): whole
 * numbers that are not silently truncated, ranges, pairs, sizes and durations. The section records of this package
 * read themselves through it.
 */
final class ConfigReader {

    private final Config config;

    ConfigReader(Config config) {
        this.config = config;
    }

    Config config() {
        return config;
    }

    /** Runs {@code read}, turning Typesafe Config's exceptions (missing key, wrong type) into {@link ConfigError}. */
    static <T> T reading(Supplier<T> read) {
        try {
            return read.get();
        } catch (ConfigException e) {
            throw new ConfigError(e.getMessage());
        }
    }

    String string(String key) {
        return config.getString(key);
    }

    boolean bool(String key) {
        return config.getBoolean(key);
    }

    long bytes(String key) {
        return config.getBytes(key);
    }

    List<Double> doubles(String key) {
        return config.getDoubleList(key);
    }

    /** A whole number in {@code [min, max]}: every size key has an upper bound, so no value is silently cut. */
    int intAt(String key, int min, int max) {
        return (int) longAt(key, min, max);
    }

    /** A whole number in {@code [min, max]} (a fractional number is a wrong type, not silently truncated). */
    long longAt(String key, long min, long max) {
        Object raw = config.getValue(key).unwrapped();
        if (raw instanceof Number n && n.doubleValue() != Math.rint(n.doubleValue())) {
            throw new ConfigError(key + " = " + raw + " must be a whole number");
        }
        if (raw instanceof Number n && Math.abs(n.doubleValue()) >= 0x1p63) {
            throw new ConfigError(key + " = " + raw + " is out of range: must be in [" + min + ", " + max + "]");
        }
        long v = config.getLong(key);
        if (v < min || v > max) {
            throw new ConfigError(key + " = " + v + " is out of range: must be in [" + min + ", " + max + "]");
        }
        return v;
    }

    double doubleAt(String key, double min, double max) {
        double v = config.getDouble(key);
        if (!(v >= min && v <= max)) {
            throw new ConfigError(key + " = " + v + " is out of range: must be in [" + min + ", " + max + "]");
        }
        return v;
    }

    /** A crop scale range: 0 < low <= high <= 1. */
    double[] scaleAt(String key) {
        double[] p = pairAt(key, 0, 1);
        if (p[0] <= 0) {
            throw new ConfigError(
                    key + " = " + config.getDoubleList(key) + " must be [low, high] with 0 < low <= high <= 1");
        }
        return p;
    }

    double[] pairAt(String key, double min, double max) {
        List<Double> l = config.getDoubleList(key);
        if (l.size() != 2 || !(l.get(0) >= min && l.get(0) <= l.get(1) && l.get(1) <= max)) {
            throw new ConfigError(key + " = " + l + " must be [low, high] with " + min + " <= low <= high <= " + max);
        }
        return new double[] {l.get(0), l.get(1)};
    }

    Duration positiveDuration(String key) {
        Duration d = config.getDuration(key);
        if (d.isNegative() || d.isZero()) {
            throw new ConfigError(key + " = " + d + " must be positive");
        }
        return d;
    }

    /** A multiple of {@code patch} (crop sizes), at most {@code max}. */
    int multipleOf(String key, int patch, int max) {
        int s = intAt(key, 1, max);
        if (s % patch != 0) {
            throw new ConfigError(key + " = " + s + " must be a multiple of dinoj.model.patch-size = " + patch);
        }
        return s;
    }
}
