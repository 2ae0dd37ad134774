/**
 * Benchmarks behind {@code dinoj bench}: the training step (images/s, time split, FLOP utilisation), the sharded step
 * in N rank JVMs, the collectives beside memcpy.
 */
package dev.dinoj.trainer.bench;
