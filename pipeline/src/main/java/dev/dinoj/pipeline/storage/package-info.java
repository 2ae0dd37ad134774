/**
 * Object storage behind one interface: a local directory ({@code file:///path}) or an S3 bucket through Alpakka S3
 * ({@code s3://bucket/prefix}), with retries for transient failures. (The S3-compatible server on loopback that tests
 * and demos run is the module {@code loopback-s3}, kept out of this module's class path.)
 *
 * <p>{@link dev.dinoj.pipeline.storage.StorageUri} parses the URIs, {@link dev.dinoj.pipeline.storage.ObjectStores}
 * opens the store behind one, {@link dev.dinoj.pipeline.storage.StorageSettings} holds the endpoint, region, access
 * style and credentials (the secret is never printed). Everything asynchronous returns a {@code CompletionStage};
 * listings are Akka Streams {@code Source}s, so a consumer's demand paces the pagination.
 */
package dev.dinoj.pipeline.storage;
