package dev.dinoj.trainer.model;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * PyTorch's autograd switch is per thread, and DJL turns it off only on the thread that first initialises the
 * engine (and {@code GradientCollector} restores, on close, whatever mode the thread had). On any other thread it is
 * PyTorch's default — on — so work outside the gradient collector records autograd history: a teacher built from the
 * student keeps a graph back to it, and a later backward runs through nodes an earlier backward freed ("Trying to
 * backward through the graph a second time"). That happened on a cluster node whose curation stage initialised DJL
 * on another thread before its trainer worker ran. Every entry point of model creation and of a training step calls
 * {@link #offOnThisThread()}.
 */
public final class GradMode {

    static {
        Engine.getInstance(); // loads the native library (and initialises the engine) if not yet
    }

    private GradMode() {}

    /** Turns autograd recording off on the calling thread (gradient collectors turn it on for their scope). */
    public static void offOnThisThread() {
        JniUtils.setGradMode(false);
    }

    /** Whether the calling thread records autograd history. */
    public static boolean isOnForThisThread() {
        return JniUtils.isGradMode();
    }
}
