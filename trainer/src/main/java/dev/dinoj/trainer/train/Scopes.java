package dev.dinoj.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import java.util.List;
import java.util.function.Supplier;

/**
 * Frees a computation's scratch arrays as soon as it is done instead of at the end of the step: DJL keeps every
 * array a step creates until the step's {@link NDScope} closes, so without this the step's peak memory is the sum of
 * everything it ever allocated.
 *
 * <p>Closing an array only drops DJL's reference: whatever an autograd graph saved stays alive through PyTorch's
 * reference counts, <em>except</em> arrays DJL created over Java memory ({@code NDManager.create} of Java arrays or
 * numbers, {@code torch::from_blob}), which the JVM frees at the next GC once closed. So only computations that save
 * no such array in a graph that outlives them may run here (no-grad work, or a graph consumed inside the block, as
 * the checkpointed recompute does; see {@link dev.dinoj.trainer.model.Scalars}).
 */
final class Scopes {

    private Scopes() {}

    /** Runs {@code body} in its own scope; the arrays it returns move to the enclosing scope, all others close. */
    static List<NDArray> keeping(Supplier<List<NDArray>> body) {
        List<NDArray> out;
        try (NDScope scope = new NDScope()) {
            out = body.get();
            for (NDArray a : out) {
                if (a != null) {
                    NDScope.unregister(a);
                }
            }
            scope.suppressNotUsedWarning();
        }
        for (NDArray a : out) {
            if (a != null) {
                NDScope.register(a);
            }
        }
        return out;
    }
}
