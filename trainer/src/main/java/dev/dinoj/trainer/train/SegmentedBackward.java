package dev.dinoj.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.training.GradientCollector;
import dev.dinoj.trainer.model.VisionTransformer;
import java.util.ArrayList;
import java.util.List;

/**
 * The student's backward pass in segments, so that the gradients of the later parameters are final (and can be
 * communicated) while the earlier ones are still being computed — the order DDP / FSDP overlap gradient
 * communication with the backward pass.
 *
 * <p>During the forward the student backbone calls {@link #cut} after every block: the block's output tokens are
 * recorded and replaced by detached leaves that require a gradient, so the autograd graph falls into independent
 * segments: [patch embedding + block 0], [block 1], …, [block L−1], [final norm + heads + losses]. {@link #backward}
 * then runs the last segment from the loss, and every earlier one as the vector-Jacobian product with the gradient
 * its output leaves received: {@code Σ_g (out_g · leaf_g.grad).sum()} back-propagated (the gradient reaching
 * {@code out_g} is {@code 1 · leaf_g.grad}, exactly). The arithmetic of every operation is the one of a single
 * backward call; only the order in which autograd visits the segments is fixed.
 *
 * <p>After each segment the {@link Listener} is told from which block on the gradients are final: parameters of
 * blocks ≥ {@code firstBlock}, the final norm and the heads ({@code firstBlock = depth} after the head segment,
 * {@code 0} = everything, the patch embedding and tokens included).
 */
public final class SegmentedBackward implements VisionTransformer.BlockCut {

    /** Told, on the thread that runs the backward, when a suffix of the parameters has its final gradient. */
    public interface Listener {
        /**
         * @param firstBlock gradients of blocks ≥ firstBlock, the final norm and the heads are final; 0 = all
         */
        void onGradientsFinal(int firstBlock);
    }

    private final int depth;
    private final Listener listener;
    private final List<List<NDArray>> outputs = new ArrayList<>(); // per block: recorded outputs (one per group/pass)
    private final List<List<NDArray>> leaves = new ArrayList<>(); // per block: the detached leaves that replaced them

    /**
     * @param depth    blocks of the student backbone
     * @param listener told after every segment
     */
    public SegmentedBackward(int depth, Listener listener) {
        if (depth < 1) {
            throw new IllegalArgumentException("a backbone has at least one block: " + depth);
        }
        this.depth = depth;
        this.listener = listener;
        for (int i = 0; i < depth; i++) {
            outputs.add(new ArrayList<>());
            leaves.add(new ArrayList<>());
        }
    }

    public int depth() {
        return depth;
    }

    /** Forgets the previous step's segments (called at the start of every forward). */
    public void begin() {
        for (int i = 0; i < depth; i++) {
            outputs.get(i).clear();
            leaves.get(i).clear();
        }
    }

    /** Called by the student backbone after block {@code block}: returns detached leaves in place of {@code xs}. */
    @Override
    public List<NDArray> cut(int block, List<NDArray> xs) {
        List<NDArray> out = new ArrayList<>(xs.size());
        for (NDArray x : xs) {
            NDArray leaf = x.stopGradient(); // same storage, no history
            leaf.setRequiresGradient(true);
            outputs.get(block).add(x);
            leaves.get(block).add(leaf);
            out.add(leaf);
        }
        return out;
    }

    /** Back-propagates {@code loss} segment by segment, from the heads down to the patch embedding. */
    public void backward(GradientCollector gc, NDArray loss) {
        gc.backward(loss);
        listener.onGradientsFinal(depth);
        for (int block = depth - 1; block >= 0; block--) {
            List<NDArray> outs = outputs.get(block);
            List<NDArray> ls = leaves.get(block);
            if (outs.isEmpty()) {
                throw new IllegalStateException("block " + block + " was not cut in the forward (begin() and a "
                        + "training forward of the student backbone must precede backward())");
            }
            NDArray vjp = null;
            for (int g = 0; g < outs.size(); g++) {
                NDArray term = outs.get(g).mul(ls.get(g).getGradient()).sum(); // scalar; d/d out = leaf.grad
                vjp = vjp == null ? term : vjp.add(term);
            }
            gc.backward(vjp);
            listener.onGradientsFinal(block);
        }
    }
}
