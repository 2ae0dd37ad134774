package dev.dinoj.pipeline.storage;

import akka.stream.alpakka.s3.RetrySettings;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * How to reach S3 ({@code dinoj.storage} in {@code reference.conf}): endpoint, region, access style, credentials,
 * retries and the connection pool size. Environment variables fill what the config leaves empty ({@code AWS_*},
 * {@code DINOJ_S3_ENDPOINT}); with no access key the AWS default provider chain is used.
 *
 * <p>{@link #toString()} and {@link #describe()} never show the secret key or the session token.
 *
 * @param endpoint        the S3 endpoint URL, empty for AWS S3 itself
 * @param region          signing region, e.g. {@code us-east-1}
 * @param accessStyle     {@code path}, {@code virtual}, or {@code auto} (path when an endpoint is set)
 * @param accessKeyId     static access key, empty to use the AWS default provider chain
 * @param secretAccessKey static secret key (with {@code accessKeyId})
 * @param sessionToken    optional session token, empty if none
 * @param retry           Alpakka S3's retries of every request (read from {@code dinoj.storage.retry}, see
 *                        {@link #retrySettings(Config)})
 * @param maxConnections  HTTP connections per endpoint (bounds download parallelism)
 */
public record StorageSettings(
        String endpoint,
        String region,
        String accessStyle,
        String accessKeyId,
        String secretAccessKey,
        String sessionToken,
        RetrySettings retry,
        int maxConnections) {

    public StorageSettings {
        endpoint = endpoint == null ? "" : endpoint.trim();
        region = region == null || region.isBlank() ? "us-east-1" : region.trim();
        accessStyle = accessStyle == null || accessStyle.isBlank() ? "auto" : accessStyle.trim();
        accessKeyId = accessKeyId == null ? "" : accessKeyId;
        secretAccessKey = secretAccessKey == null ? "" : secretAccessKey;
        sessionToken = sessionToken == null ? "" : sessionToken;
        Objects.requireNonNull(retry, "retry");
        if (!accessStyle.equals("path") && !accessStyle.equals("virtual") && !accessStyle.equals("auto")) {
            throw new ConfigException.BadValue(
                    "dinoj.storage.s3.access-style", "use path, virtual or auto: " + accessStyle);
        }
        if (!endpoint.isEmpty() && !endpoint.startsWith("http://") && !endpoint.startsWith("https://")) {
            throw new ConfigException.BadValue(
                    "dinoj.storage.s3.endpoint", "must be an http:// or https:// URL: " + endpoint);
        }
        if (accessKeyId.isEmpty() != secretAccessKey.isEmpty()) {
            throw new ConfigException.BadValue(
                    "dinoj.storage.s3.secret-access-key",
                    "set both access-key-id and secret-access-key, or neither (AWS default provider chain)");
        }
        if (maxConnections < 1) {
            throw new ConfigException.BadValue("dinoj.storage.s3.max-connections", "must be >= 1: " + maxConnections);
        }
    }

    /**
     * AWS defaults: no endpoint, us-east-1, virtual-host style, default provider chain; the retries of
     * {@code reference.conf} (8 tries, 200 ms doubling to 10 s, 20 % jitter).
     */
    public static StorageSettings defaults() {
        return new StorageSettings(
                "",
                "us-east-1",
                "auto",
                "",
                "",
                "",
                RetrySettings.create(7, Duration.ofMillis(200), Duration.ofSeconds(10), 0.2),
                16);
    }

    /**
     * Alpakka S3's retry settings from a {@code dinoj.storage.retry} block: {@code attempts} tries in all (Alpakka's
     * {@code max-retries} is one less), {@code min-backoff} doubling up to {@code max-backoff}, each delay multiplied by a
     * random factor in [1, 1 + {@code random-factor}].
     */
    public static RetrySettings retrySettings(Config retry) {
        int attempts = retry.getInt("attempts");
        Duration min = retry.getDuration("min-backoff");
        Duration max = retry.getDuration("max-backoff");
        double randomFactor = retry.getDouble("random-factor");
        if (attempts < 1) {
            throw new ConfigException.BadValue("dinoj.storage.retry.attempts", "must be >= 1: " + attempts);
        }
        if (min.isNegative() || max.compareTo(min) < 0) {
            throw new ConfigException.BadValue(
                    "dinoj.storage.retry.max-backoff", "must be >= min-backoff >= 0: " + min + ", " + max);
        }
        if (randomFactor < 0) {
            throw new ConfigException.BadValue("dinoj.storage.retry.random-factor", "must be >= 0: " + randomFactor);
        }
        return RetrySettings.create(attempts - 1, min, max, randomFactor);
    }

    /**
     * Reads the {@code dinoj.storage} block; empty values come from the environment ({@code DINOJ_S3_ENDPOINT},
     * {@code AWS_ENDPOINT_URL_S3}, {@code AWS_ENDPOINT_URL}, {@code AWS_REGION}, {@code AWS_DEFAULT_REGION},
     * {@code AWS_ACCESS_KEY_ID}, {@code AWS_SECRET_ACCESS_KEY}, {@code AWS_SESSION_TOKEN}).
     */
    public static StorageSettings fromConfig(Config root) {
        return fromConfig(root, System.getenv());
    }

    /** {@link #fromConfig(Config)} with an explicit environment (tests). */
    public static StorageSettings fromConfig(Config root, Map<String, String> env) {
        Config c = root.getConfig("dinoj.storage");
        Config s3 = c.getConfig("s3");
        String keyId = or(s3.getString("access-key-id"), env, "AWS_ACCESS_KEY_ID");
        String secret = or(s3.getString("secret-access-key"), env, "AWS_SECRET_ACCESS_KEY");
        String token = s3.getString("session-token");
        if (s3.getString("access-key-id").isEmpty()) {
            token = or(token, env, "AWS_SESSION_TOKEN"); // a session token only goes with the environment's key pair
        }
        return new StorageSettings(
                or(s3.getString("endpoint"), env, "DINOJ_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
                or(s3.getString("region"), env, "AWS_REGION", "AWS_DEFAULT_REGION"),
                s3.getString("access-style"),
                keyId,
                secret,
                token,
                retrySettings(c.getConfig("retry")),
                s3.getInt("max-connections"));
    }

    private static String or(String value, Map<String, String> env, String... vars) {
        if (value != null && !value.isEmpty()) {
            return value;
        }
        for (String v : vars) {
            String e = env.get(v);
            if (e != null && !e.isBlank()) {
                return e.trim();
            }
        }
        return "";
    }

    /** True when requests use path-style URLs ({@code http://host/bucket/key}). */
    public boolean pathStyle() {
        return accessStyle.equals("path") || (accessStyle.equals("auto") && !endpoint.isEmpty());
    }

    public StorageSettings withEndpoint(String newEndpoint) {
        return new StorageSettings(
                newEndpoint, region, accessStyle, accessKeyId, secretAccessKey, sessionToken, retry, maxConnections);
    }

    public StorageSettings withRegion(String newRegion) {
        return new StorageSettings(
                endpoint, newRegion, accessStyle, accessKeyId, secretAccessKey, sessionToken, retry, maxConnections);
    }

    public StorageSettings withAccessStyle(String style) {
        return new StorageSettings(
                endpoint, region, style, accessKeyId, secretAccessKey, sessionToken, retry, maxConnections);
    }

    public StorageSettings withCredentials(String keyId, String secret) {
        return new StorageSettings(endpoint, region, accessStyle, keyId, secret, "", retry, maxConnections);
    }

    /**
     * These settings pointed at an S3-compatible server of one's own (S3Proxy, MinIO on loopback): its endpoint,
     * path-style requests signed for us-east-1, its static key pair; retries and pool size stay.
     */
    public StorageSettings withLocalEndpoint(String localEndpoint, String keyId, String secret) {
        return withEndpoint(localEndpoint)
                .withAccessStyle("path")
                .withRegion("us-east-1")
                .withCredentials(keyId, secret);
    }

    public StorageSettings withRetry(RetrySettings r) {
        return new StorageSettings(
                endpoint, region, accessStyle, accessKeyId, secretAccessKey, sessionToken, r, maxConnections);
    }

    /** Endpoint, region, style and where credentials come from; no secrets. */
    public String describe() {
        String creds = accessKeyId.isEmpty()
                ? "AWS default provider chain"
                : "static key " + mask(accessKeyId) + (sessionToken.isEmpty() ? "" : " + session token");
        return "endpoint " + (endpoint.isEmpty() ? "AWS" : endpoint) + ", region " + region + ", "
                + (pathStyle() ? "path" : "virtual-host") + " style, credentials: " + creds;
    }

    /** The first 4 characters of a key id, the rest starred ("AKIA****"). */
    static String mask(String keyId) {
        if (keyId.length() <= 4) {
            return "****";
        }
        return keyId.substring(0, 4) + "*".repeat(Math.min(12, keyId.length() - 4));
    }

    @Override
    public String toString() {
        return "StorageSettings[" + describe() + ", retry " + retry + ", max-connections " + maxConnections + "]";
    }
}
