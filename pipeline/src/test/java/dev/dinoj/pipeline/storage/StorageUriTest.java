package dev.dinoj.pipeline.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import com.typesafe.config.ConfigFactory;
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
    assertThrows(IllegalArgumentException.class, () -> StorageUri.parse("s3://ab/x"), "bucket names have >= 3 chars");
    assertThrows(IllegalArgumentException.class, () -> StorageUri.parse("s3://Upper_Case/x"));
  }

  @Test
  void shouldFillEmptySettingsFromTheEnvironmentAndNeverPrintTheSecret() {
    var config = ConfigFactory.parseResources(StorageUriTest.class.getClassLoader(), "reference.conf").resolve();
    StorageSettings s = StorageSettings.fromConfig(config, Map.of("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY123",
        "AWS_SECRET_ACCESS_KEY", "very-secret-value", "DINOJ_S3_ENDPOINT", "http://127.0.0.1:9000",
        "AWS_REGION", "eu-west-1"));
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
  void shouldBackOffExponentiallyUpToTheCap() {
    RetrySettings r = new RetrySettings(8, java.time.Duration.ofMillis(100), java.time.Duration.ofMillis(1000), 0);
    assertEquals(100, r.backoff(1).toMillis());
    assertEquals(200, r.backoff(2).toMillis());
    assertEquals(800, r.backoff(4).toMillis());
    assertEquals(1000, r.backoff(5).toMillis());
    assertEquals(1000, r.backoff(60).toMillis());
  }
}
