/**
 * Benchmarks of the cluster runtime: {@link dev.dinoj.actors.bench.DataBench} times decoding and multi-crop
 * augmentation of an image folder and its delivery from a data shard to a worker over Artery.
 */
package dev.dinoj.actors.bench;
