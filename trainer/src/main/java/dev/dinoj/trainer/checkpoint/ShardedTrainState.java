package dev.dinoj.trainer.checkpoint;

import dev.dinoj.trainer.collective.Communicator;
import dev.dinoj.trainer.collective.Partition;
import dev.dinoj.trainer.optim.FlatLayout;
import dev.dinoj.trainer.optim.ShardedAdamW;

/**
 * What a sharded checkpoint saves of one rank's training state and restores into it (the sharded step,
 * {@code ShardedTrainer}, is one): the replicated model state, and this rank's shard of the flat parameter vector with
 * its AdamW moments.
 */
public interface ShardedTrainState {

    /** The model state, replicated on every rank. */
    TrainState model();

    /** This rank's communicator: its rank, the world size and generation, the collectives of a save or load. */
    Communicator communicator();

    /** AdamW over this rank's shard. */
    ShardedAdamW optimizer();

    /** The flat layout of the student's parameters. */
    FlatLayout layout();

    /** The shard of every rank. */
    Partition shards();

    /** After the student was overwritten: copies it into the rank's flat parameter vector. */
    void refreshFromStudent();
}
