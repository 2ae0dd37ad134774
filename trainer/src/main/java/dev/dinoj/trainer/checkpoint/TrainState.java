package dev.dinoj.trainer.checkpoint;

import dev.dinoj.trainer.loss.SoftmaxCenter;
import dev.dinoj.trainer.model.ParamSet;
import dev.dinoj.trainer.optim.AdamW;

/**
 * What a checkpoint saves of a model under training and restores into it (the training step, {@code SslMetaArch}, is
 * one): the student, its EMA (the teacher; in distillation the spare EMA), the softmax centers, the Gram teacher, the
 * optimiser of a single-process run, and the identity of a distillation teacher.
 */
public interface TrainState {

    /** The trained parameters. */
    ParamSet student();

    /** The EMA of the student: the teacher of pretraining, the spare EMA of distillation. */
    ParamSet ema();

    /** The DINO head's softmax center (state even when unused: restored as saved). */
    SoftmaxCenter dinoCenter();

    /** The iBOT head's softmax center. */
    SoftmaxCenter ibotCenter();

    /** The Gram anchoring state, or null without Gram anchoring. */
    GramState gram();

    /** AdamW of a single-process run (a sharded run's optimiser is {@link ShardedTrainState#optimizer()}). */
    AdamW optimizer();

    /** SHA-256 of a distillation teacher's weights, null in pretraining. */
    String distillTeacherSha256();
}
