/**
 * The Aeron hot path of the collectives: the chunk header flyweight ({@code ChunkHeader}), the wire encodings
 * ({@code Wire}), the element loops ({@code Kernels}, over NIO views of the log buffers from {@code BufferViews}), the
 * two algorithms as preallocated state machines with a {@code doWork()} ({@code RingCollective},
 * {@code AllToAllCollective}, screening chunks in {@code ChunkCollective}) and their Agrona counters
 * ({@code CollectiveCounters}). Aeron's conventions apply here: final parameters and locals, no allocation, lambda
 * or boxing per fragment. Nothing here depends on the rest of {@code collective}.
 */
package dev.dinoj.trainer.collective.transport;
