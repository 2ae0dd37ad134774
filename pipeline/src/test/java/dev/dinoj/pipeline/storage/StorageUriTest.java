package dev.dinoj.pipeline.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import akka.stream.alpakka.s3.RetrySettings;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StorageUriTest {
    @Test
    void shouldParseS3UrisIntoBucketAndPrefix() {
        StorageUri u = StorageUri.parse("s3://my-bucket/pool/2024/");
        assertTrue(u.isS3());
        assertEquals("my-bucket", u.bucket());
        assertEquals("pool/2024/", u.path());
        assertEquals("s3://my-bucket/pool/2024/x.png", u.resolve("x.png").toString());
        StorageUri bare = StorageUri.parse("s3://bkt");
        assertEquals("", bare.path());
        assertEquals("s3://bkt/k", bare.resolve("k").toString());
    }

    @Test
    void shouldParseFileUrisAndPlainPaths() {
        StorageUri f = StorageUri.parse("file:///tmp/some/dir");
        assertFalse(f.isS3());
        assertNull(f.bucket());
        assertEquals(Path.of("/tmp/some/dir"), f.localPath());
        StorageUri p = StorageUri.parse("relative/dir");
        assertEquals(Path.of("relative/dir").toAbsolutePath().normalize(), p.localPath());
        assertEquals(f, StorageUri.parse(f.toString()));
    }

    @Test
    void shouldRejectOtherSchemesAndMissingBuckets() {
        assertThrows(IllegalArgumentException.class, () -> StorageUri.parse("gs://bucket/x"));
        assertThrows(IllegalArgumentException.class, () -> StorageUri.parse("s3:///prefix"));
        assertThrows(
                IllegalArgumentException.class, () -> StorageUri.parse("s3://ab/x"), "bucket names have >= 3 chars");
        assertThrows(IllegalArgumentException.class, () -> StorageUri.parse("s3://Upper_Case/x"));
    }

    @Test
    void shouldFillEmptySettingsFromTheEnvironmentAndNeverPrintTheSecret() {
        var config = ConfigFactory.parseResources(StorageUriTest.class.getClassLoader(), "reference.conf")
                .resolve();
        StorageSettings s = StorageSettings.fromConfig(
                config,
                Map.of(
                        "AWS_ACCESS_KEY_ID",
                        "AKIAEXAMPLEKEY123",
                        "AWS_SECRET_ACCESS_KEY",
                        "very-secret-value",
                        "DINOJ_S3_ENDPOINT",
                        "http://127.0.0.1:9000",
                        "AWS_REGION",
                        "eu-west-1"));
        assertEquals("http://127.0.0.1:9000", s.endpoint());
        assertEquals("eu-west-1", s.region());
        assertTrue(s.pathStyle(), "an explicit endpoint defaults to path-style access");
        assertEquals("very-secret-value", s.secretAccessKey());
        assertFalse(s.toString().contains("very-secret-value"), s.toString());
        assertFalse(s.toString().contains("EXAMPLEKEY123"), s.toString());
        assertFalse(s.describe().contains("very-secret-value"));
        StorageSettings aws = StorageSettings.fromConfig(config, Map.of());
        assertEquals("", aws.endpoint());
        assertEquals("us-east-1", aws.region());
        assertFalse(aws.pathStyle());
        assertTrue(aws.describe().contains("default provider chain"));
    }

    @Test
    void shouldMapTheRetryKeysOntoAlpakkasRetrySettings() {
        var config = ConfigFactory.parseResources(StorageUriTest.class.getClassLoader(), "reference.conf")
                .resolve();
        RetrySettings r = StorageSettings.fromConfig(config, Map.of()).retry();
        assertEquals(7, r.maxRetries(), "attempts = 8: the first try and 7 retries");
        assertEquals(Duration.ofMillis(200), r.getMinBackoff());
        assertEquals(Duration.ofSeconds(10), r.getMaxBackoff());
        assertEquals(0.2, r.getRandomFactor());
        assertEquals(StorageSettings.defaults().retry(), r);

        RetrySettings once = StorageSettings.retrySettings(
                ConfigFactory.parseString("attempts = 1, min-backoff = 1 s, max-backoff = 2 s, random-factor = 0"));
        assertEquals(0, once.maxRetries());
        ConfigException.BadValue none = assertThrows(
                ConfigException.BadValue.class,
                () -> StorageSettings.retrySettings(ConfigFactory.parseString(
                        "attempts = 0, min-backoff = 1 s, max-backoff = 2 s, random-factor = 0")));
        assertTrue(none.getMessage().contains("dinoj.storage.retry.attempts"), none.getMessage());
        ConfigException.BadValue inverted = assertThrows(
                ConfigException.BadValue.class,
                () -> StorageSettings.retrySettings(ConfigFactory.parseString(
                        "attempts = 3, min-backoff = 2 s, max-backoff = 1 s, random-factor = 0")));
        assertTrue(inverted.getMessage().contains("dinoj.storage.retry.max-backoff"), inverted.getMessage());
    }
}
