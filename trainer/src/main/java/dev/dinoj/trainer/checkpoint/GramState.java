package dev.dinoj.trainer.checkpoint;

import dev.dinoj.trainer.io.NpyArray;
import dev.dinoj.trainer.model.ParamSet;
import java.util.Map;

/** The checkpointed part of DINOv3 Gram anchoring: the Gram teacher snapshot (see {@code GramAnchor}). */
public interface GramState {

    /** The Gram teacher's parameters, or null when the EMA teacher itself gives the targets. */
    ParamSet teacher();

    /** Whether the snapshot has been taken (before that there is nothing to save). */
    boolean initialized();

    /** Loads a saved snapshot; {@code source} names the file in errors. */
    void restore(Map<String, NpyArray> tensors, String source);

    /** A checkpoint without a snapshot resumed at {@code step}: takes it from {@code ema} when it is due. */
    void initializeMissing(long step, ParamSet ema);
}
