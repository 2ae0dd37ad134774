package dev.dinoj.trainer.train.sharded;

import dev.dinoj.trainer.collective.Communicator;
import dev.dinoj.trainer.collective.Partition;
import dev.dinoj.trainer.collective.ReduceScatterAgent;
import dev.dinoj.trainer.collective.WireFormat;
import dev.dinoj.trainer.model.ParamSet;
import dev.dinoj.trainer.optim.FlatLayout;
import dev.dinoj.trainer.optim.HostStaging;
import dev.dinoj.trainer.train.SegmentedBackward;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;

/**
 * The gradient reduce-scatter of the sharded step, overlapped with the backward pass: the student's backward runs in
 * segments ({@link SegmentedBackward}: heads, block L−1, …, block 0 + patch embedding), and as soon as a segment's
 * gradients are final they are copied into their bucket of the flat gradient vector and reduce-scattered by a
 * communication thread while the step thread back-propagates the next segment.
 *
 * <p><b>Buckets.</b> In the official parameter order the parameters whose gradients become final after a segment are
 * always a contiguous range of the flat vector just before the previous bucket (heads and final norm at the end,
 * block 0 and the embeddings at the start), so bucket {@code j} is a range {@code [a, b)} and its partition is the
 * rank shards clipped to it. A ring reduce-scatter of the buckets sums every element in the same order as one
 * reduce-scatter of the whole vector (the order depends only on the element's shard), so the results are bitwise
 * those of the non-overlapped step. The bucket views are made once; nothing is allocated per step by this class.
 *
 * <p><b>Threads.</b> A communicator is driven by one thread at a time. The step thread uses it during the forward
 * (global sums) and after {@link #awaitAll()}; the communication thread only between the first launch of a step and
 * the completion of its last bucket. Hand-over is through volatile counters (launched / completed), which order the
 * communicator's plain fields between the two threads. The communication thread is a {@link ReduceScatterAgent}
 * under an {@link AgentRunner}; idle, it is parked, so it takes no core from the backward pass.
 */
final class OverlappedReduceScatter implements SegmentedBackward.Listener, AutoCloseable {

    private final FlatLayout layout;
    private final ParamSet student;
    private final HostStaging staging;
    private final int depth;
    private final int[] firstParam; // bucket j: parameters [firstParam[j], endParam[j])
    private final int[] endParam;
    private final ReduceScatterAgent agent; // reduce-scatters the launched buckets
    private final AgentRunner runner;

    private int nextBucket; // step thread only
    private long launchedByBackward; // step thread only: buckets launched from inside the backward
    private long stepBase; // step thread only: completed count at the start of the step

    /**
     * @param staging the host staging of the flat gradient vector (the buckets are ranges of it)
     * @param depth   blocks of the student backbone
     */
    OverlappedReduceScatter(
            Communicator comm,
            FlatLayout layout,
            ParamSet student,
            HostStaging staging,
            Partition shards,
            WireFormat wire,
            int depth) {
        this.layout = layout;
        this.student = student;
        this.staging = staging;
        ByteBuffer gradVector = staging.buffer();
        this.depth = depth;
        int[] first = firstParamOfSegments(layout, depth);
        int buckets = depth + 1;
        this.firstParam = new int[buckets];
        this.endParam = new int[buckets];
        ByteBuffer[] views = new ByteBuffer[buckets]; // bucket j's elements of the flat gradient vector
        Partition[] partitions = new Partition[buckets]; // the rank shards clipped to bucket j
        int end = layout.count();
        for (int j = 0; j < buckets; j++) {
            int f = depth - j; // segment told by onGradientsFinal(f)
            int from = f == 0 ? 0 : first[f];
            firstParam[j] = from;
            endParam[j] = end;
            int a = from == layout.count() ? layout.total() : layout.offset(from);
            int b = end == layout.count() ? layout.total() : layout.offset(end);
            views[j] = gradVector.slice(a * 4, (b - a) * 4).order(ByteOrder.nativeOrder());
            int[] o = new int[shards.blocks() + 1];
            for (int r = 0; r < shards.blocks(); r++) {
                o[r + 1] = Math.max(0, Math.min(b, shards.end(r)) - a);
                o[r + 1] = Math.max(o[r + 1], o[r]);
            }
            partitions[j] = Partition.of(o);
            end = from;
        }
        this.agent = new ReduceScatterAgent(comm, views, partitions, wire);
        this.runner = ReduceScatterAgent.newRunner(agent);
    }

    /**
     * {@code first[f]} = index of the first parameter of {@code blocks.f} (f in [1, depth)), and of the first parameter
     * after the blocks for {@code f = depth}. Checks that the layout is [embeddings][blocks 0..L−1 in order][norm,
     * heads], the order in which segment gradients become final as contiguous ranges.
     */
    static int[] firstParamOfSegments(FlatLayout layout, int depth) {
        int[] seg = new int[layout.count()];
        for (int i = 0; i < layout.count(); i++) {
            seg[i] = segmentOf(layout.name(i), depth, i > 0 ? seg[i - 1] : 0);
            if (i > 0 && seg[i] < seg[i - 1]) {
                throw new IllegalStateException("parameter " + layout.name(i) + " follows " + layout.name(i - 1)
                        + ": the flat layout is not in backward-segment order, so the gradient reduce-scatter cannot be "
                        + "overlapped (set dinoj.collectives.overlap = false)");
            }
        }
        int[] first = new int[depth + 1];
        for (int f = depth; f >= 0; f--) {
            int i = 0;
            while (i < seg.length && seg[i] < f) {
                i++;
            }
            first[f] = i;
        }
        return first;
    }

    private static int segmentOf(String name, int depth, int previous) {
        String blocks = "backbone.blocks.";
        if (name.startsWith(blocks)) {
            int dot = name.indexOf('.', blocks.length());
            return Integer.parseInt(name.substring(blocks.length(), dot));
        }
        if (name.startsWith("backbone.") && previous == 0 && !name.startsWith("backbone.norm.")) {
            return 0; // tokens, position and patch embedding
        }
        return depth; // final norm and heads
    }

    /**
     * Time the communication thread spent inside reduce-scatters so far (ns): the communication that overlapped the
     * backward, plus the part the step thread waited for. Read it after {@link #awaitAll()}.
     */
    long busyNanos() {
        return agent.busyNanos();
    }

    /** Buckets launched by segments of the backward so far (the rest were launched after it). */
    long launchedByBackward() {
        return launchedByBackward;
    }

    /** Buckets per step. */
    int buckets() {
        return firstParam.length;
    }

    /** Start of a step (the communication thread is idle). */
    void beginStep() {
        nextBucket = 0;
        stepBase = agent.completed();
    }

    @Override
    public void onGradientsFinal(int firstBlock) {
        if (firstBlock != depth - nextBucket) {
            throw new IllegalStateException("segment from block " + firstBlock + " finished where bucket " + nextBucket
                    + " (from block " + (depth - nextBucket) + ") was expected");
        }
        launchedByBackward++;
        launchNext();
    }

    /** Launches the buckets the backward did not (all of them when the loss was not finite and there was no backward). */
    void launchRemaining() {
        while (nextBucket < firstParam.length) {
            launchNext();
        }
    }

    private void launchNext() {
        int j = nextBucket++;
        staging.readGradients(student, firstParam[j], endParam[j]); // device → this bucket's host staging
        agent.launch(); // publishes the gradients and the communicator
    }

    /** Waits until every bucket of the step is reduce-scattered; rethrows a failure of the communication thread. */
    void awaitAll() {
        agent.awaitCompleted(stepBase + firstParam.length);
    }

    /** Stops the communication thread (after the last step). */
    @Override
    public void close() {
        CloseHelper.close(runner);
    }

    /** The bucket ranges in launch order, {@code [from, to)} in elements (for tests and logs). */
    List<int[]> bucketRanges() {
        List<int[]> out = new ArrayList<>();
        for (int j = 0; j < firstParam.length; j++) {
            int a = firstParam[j] == layout.count() ? layout.total() : layout.offset(firstParam[j]);
            int b = endParam[j] == layout.count() ? layout.total() : layout.offset(endParam[j]);
            out.add(new int[] {a, b});
        }
        return out;
    }
}
