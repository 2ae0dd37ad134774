package dev.dinoj.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import dev.dinoj.trainer.model.VisionTransformer;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * The student's backward pass in segments, so that the gradients of the later parameters are final (and can be
 * communicated) while the earlier ones are still being computed — the order DDP / FSDP overlap gradient
 * communication with the backward pass — optionally with activation checkpointing.
 *
 * <p>During the forward the student backbone runs every block through {@link #run}: the block's output tokens are
 * recorded and replaced by detached leaves that require a gradient, so the autograd graph falls into independent
 * segments: [patch embedding + block 0], [block 1], …, [block L−1], [final norm + heads + losses]. {@link #backward}
 * then runs the last segment from the loss, and every earlier one as the vector-Jacobian product with the gradient
 * its output leaves received: {@code Σ_g (out_g · leaf_g.grad).sum()} back-propagated (the gradient reaching
 * {@code out_g} is {@code 1 · leaf_g.grad}, exactly). The arithmetic of every operation is the one of a single
 * backward call; only the order in which autograd visits the segments is fixed.
 *
 * <p><b>Activation checkpointing</b> ({@link #begin(boolean) begin(true)}, {@code torch.utils.checkpoint} on every
 * block as dinov2 does): the forward runs each block without recording a graph and keeps only its input (and the
 * stochastic-depth draws it made, {@link ReplayableRandom}); the block's scratch arrays are freed at once. In the
 * backward block i is recomputed from its stored input, now a leaf that requires a gradient, with the same draws,
 * the gradient of its output is back-propagated through it, and its input's gradient is the output gradient of block
 * i−1 (block 0's input keeps its graph to the patch embedding, which the same backward reaches). Recompute and
 * forward run the same operations on the same values, so the gradients are those of the plain backward; memory holds
 * one block's activations instead of all of them, at the cost of a second forward of the blocks.
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

    /** One training forward of one block (the packed groups, or one pass of unpacked crops). */
    private record Call(
            List<NDArray> inputs,
            VisionTransformer.BlockFunction fn,
            ReplayableRandom draws,
            List<NDArray> outputs,
            List<NDArray> leaves) {}

    private final int depth;
    private final Listener listener;
    private final List<List<Call>> calls = new ArrayList<>(); // per block, in forward order
    private boolean recompute;

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
            calls.add(new ArrayList<>());
        }
    }

    public int depth() {
        return depth;
    }

    /** Forgets the previous step's segments (called at the start of every forward); no checkpointing. */
    public void begin() {
        begin(false);
    }

    /**
     * Forgets the previous step's segments (called at the start of every forward).
     *
     * @param checkpointing recompute every block in the backward instead of keeping its activations
     */
    public void begin(boolean checkpointing) {
        this.recompute = checkpointing;
        for (List<Call> c : calls) {
            c.clear();
        }
    }

    /** Whether the current step recomputes the blocks in the backward. */
    public boolean checkpointing() {
        return recompute;
    }

    /**
     * Called by the student backbone for every block of a forward. In a training forward: the block's output as
     * detached leaves that require a gradient; with checkpointing, computed without a graph, its input kept.
     */
    @Override
    public List<NDArray> run(
            int block, List<NDArray> xs, boolean training, RandomGenerator rng, VisionTransformer.BlockFunction fn) {
        if (!training) {
            return fn.apply(xs, rng);
        }
        if (!recompute) {
            List<NDArray> out = fn.apply(xs, rng);
            List<NDArray> leaves = leaves(out);
            calls.get(block).add(new Call(null, null, null, out, leaves));
            return leaves;
        }
        ReplayableRandom draws = rng == null ? null : new ReplayableRandom(rng);
        boolean grad = JniUtils.isGradMode();
        List<NDArray> out;
        JniUtils.setGradMode(false);
        try {
            out = Scopes.keeping(() -> fn.apply(xs, draws)); // no graph: every scratch array freed here
        } finally {
            JniUtils.setGradMode(grad);
        }
        List<NDArray> next = block == depth - 1 ? leaves(out) : out; // the heads' backward stops at the leaves
        calls.get(block).add(new Call(xs, fn, draws, out, next));
        return next;
    }

    private static List<NDArray> leaves(List<NDArray> xs) {
        List<NDArray> out = new ArrayList<>(xs.size());
        for (NDArray x : xs) {
            NDArray leaf = x.stopGradient(); // same storage, no history
            leaf.setRequiresGradient(true);
            out.add(leaf);
        }
        return out;
    }

    /** Back-propagates {@code loss} segment by segment, from the heads down to the patch embedding. */
    public void backward(GradientCollector gc, NDArray loss) {
        for (int block = 0; block < depth; block++) {
            if (calls.get(block).isEmpty()) {
                throw new IllegalStateException("block " + block + " was not run in the forward (begin() and a "
                        + "training forward of the student backbone must precede backward())");
            }
        }
        gc.backward(loss);
        listener.onGradientsFinal(depth);
        if (recompute) {
            recomputeBackward(gc);
            return;
        }
        for (int block = depth - 1; block >= 0; block--) {
            NDArray vjp = null;
            for (Call c : calls.get(block)) {
                for (int g = 0; g < c.outputs().size(); g++) {
                    NDArray leaf = c.leaves().get(g);
                    NDArray term = c.outputs().get(g).mul(leaf.getGradient()).sum(); // scalar; d/d out = leaf.grad
                    vjp = vjp == null ? term : vjp.add(term);
                }
            }
            gc.backward(vjp);
            listener.onGradientsFinal(block);
        }
    }

    /** The checkpointed blocks, last to first: recompute with a graph, back-propagate, hand the input gradient on. */
    private void recomputeBackward(GradientCollector gc) {
        List<List<NDArray>> outGrads = new ArrayList<>(); // per call of the current block
        for (Call c : calls.get(depth - 1)) {
            List<NDArray> g = new ArrayList<>();
            for (NDArray leaf : c.leaves()) {
                g.add(leaf.getGradient());
            }
            outGrads.add(g);
        }
        for (int block = depth - 1; block >= 0; block--) {
            List<Call> cs = calls.get(block);
            boolean first = block == 0;
            List<List<NDArray>> grads = outGrads;
            List<List<NDArray>> inputs = new ArrayList<>();
            List<NDArray> inGrads = Scopes.keeping(() -> {
                NDArray vjp = null;
                for (int k = 0; k < cs.size(); k++) {
                    Call c = cs.get(k);
                    // block 0's input keeps its graph to the patch embedding; later ones become leaves
                    List<NDArray> in = first ? c.inputs() : leaves(c.inputs());
                    inputs.add(in);
                    List<NDArray> out = c.fn().apply(
                                    in, c.draws() == null ? null : c.draws().replay());
                    for (int g = 0; g < out.size(); g++) {
                        NDArray term = out.get(g).mul(grads.get(k).get(g)).sum(); // scalar; d/d out = grad
                        vjp = vjp == null ? term : vjp.add(term);
                    }
                }
                gc.backward(vjp); // the recomputed graph, consumed (and its scratch arrays freed) right here
                List<NDArray> kept = new ArrayList<>();
                if (!first) {
                    for (List<NDArray> in : inputs) {
                        for (NDArray x : in) {
                            kept.add(x.getGradient());
                        }
                    }
                }
                return kept;
            });
            for (List<NDArray> g : outGrads) {
                for (NDArray a : g) {
                    a.close();
                }
            }
            outGrads = new ArrayList<>();
            int at = 0;
            for (List<NDArray> in : inputs) {
                outGrads.add(first ? List.of() : new ArrayList<>(inGrads.subList(at, at + in.size())));
                at += in.size();
            }
            cs.forEach(c -> c.inputs().forEach(NDArray::close)); // block i's input = block i−1's output: done
            listener.onGradientsFinal(block);
        }
    }
}
