/**
 * An S3-compatible server on loopback ({@link dev.dinoj.loopback.LoopbackS3Server}, S3Proxy with a filesystem
 * backend) that tests start in-process, and that {@code dinoj demo} and {@code dinoj s3-server} run for users. It
 * depends on no dinoj module, so every module can use it in test scope; only deploy ships it.
 */
package dev.dinoj.loopback;
