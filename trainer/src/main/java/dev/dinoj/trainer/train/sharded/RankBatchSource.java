package dev.dinoj.trainer.train.sharded;

import dev.dinoj.pipeline.masking.CollatedBatch;
import dev.dinoj.trainer.train.TrainLoop;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

/**
 * A rank's batches of one phase: its part of the global batch of each step ({@link RankBatches}, a function of the
 * step), the next one prepared on a loader thread while the current step runs.
 */
final class RankBatchSource implements TrainLoop.BatchSource {

    private final RankBatches batches;
    private final int rank;
    private final long end;
    private final ExecutorService loader;
    private Future<CollatedBatch> pending;
    private long next;
    private long taken = -1;

    RankBatchSource(RankBatches batches, int rank, long first, long end, ExecutorService loader) {
        this.batches = batches;
        this.rank = rank;
        this.end = end;
        this.loader = loader;
        this.next = first;
        this.pending = first < end ? submit(first) : null;
    }

    private Future<CollatedBatch> submit(long step) {
        return loader.submit(() -> batches.batch(step, rank));
    }

    @Override
    public CollatedBatch next() throws Exception {
        if (pending == null) {
            throw new IllegalStateException("no batch after step " + (end - 1) + " in this phase");
        }
        CollatedBatch batch = pending.get();
        taken = next++;
        pending = next < end ? submit(next) : null;
        return batch;
    }

    /** The epoch sampler's position after the steps taken (a function of the step on every rank). */
    @Override
    public long position() {
        return taken < 0 ? batches.positionAfter(next - 1) : batches.positionAfter(taken);
    }

    @Override
    public void close() {
        if (pending != null) {
            pending.cancel(true);
        }
    }
}
