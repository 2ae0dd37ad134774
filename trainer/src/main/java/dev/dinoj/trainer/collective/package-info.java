/**
 * Collective communication over Aeron for trainer ranks: a {@link dev.dinoj.trainer.collective.World} of ordered
 * ranks, a {@link dev.dinoj.trainer.collective.Communicator} per rank with ring reduce-scatter / all-gather /
 * all-reduce on float32 (optionally bf16 on the wire), a latency-optimised small all-reduce, broadcast and barrier.
 * Failures are typed: {@link dev.dinoj.trainer.collective.CollectiveTimeoutException} when a peer stops answering,
 * {@link dev.dinoj.trainer.collective.CollectiveException} for protocol errors. The communicator is a facade over
 * {@code Peers} (the Aeron ends), the state machines of {@code transport} and one {@code DutyCycle};
 * {@link dev.dinoj.trainer.collective.ReduceScatterAgent} runs reduce-scatters on an Agrona agent thread. See
 * docs/COLLECTIVES.md.
 */
package dev.dinoj.trainer.collective;
