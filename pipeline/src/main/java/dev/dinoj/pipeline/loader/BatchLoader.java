package dev.dinoj.pipeline.loader;

import dev.dinoj.pipeline.augment.MultiCropAugmentation;
import dev.dinoj.pipeline.augment.MultiCropSample;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.masking.CollatedBatch;
import dev.dinoj.pipeline.masking.Collator;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Background loading of training batches: for each batch, {@code batchSize} indices from the
 * {@link EpochSampler}, one task per sample (decode + {@link MultiCropAugmentation}) and one collate task
 * ({@link Collator}), on a pool of daemon threads, at most {@code prefetch} batches ahead of the consumer.
 *
 * <p><b>Determinism.</b> The sample at sampler position {@code p} is augmented with a generator derived from
 * {@code (seed, p)}; the batch whose first sample is at position {@code p0} is its step
 * {@code s = p0 / batchSize} and is collated with a generator derived from {@code (seed, s)}. Batches are
 * therefore bitwise identical for any thread count, and a loader built on a sampler {@link
 * EpochSampler#seek seeked} to a checkpointed {@link #position()} continues with exactly the batches the
 * original run would have produced.
 *
 * <p>{@link #next()} is for one consumer thread; {@link #position()}, {@link #step()} and {@link #close()} may
 * be called from any thread.
 */
public final class BatchLoader implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(BatchLoader.class);
    private static final AtomicInteger POOLS = new AtomicInteger();

    private final ImageDataset dataset;
    private final MultiCropAugmentation augmentation;
    private final Collator collator;
    private final EpochSampler sampler;
    private final int batchSize;
    private final long seed;
    private final ExecutorService executor;
    /** Batches in flight, oldest first; added and removed by the consumer, cancelled by {@link #close()}. */
    private final Deque<CompletableFuture<CollatedBatch>> pending = new ConcurrentLinkedDeque<>();

    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile long
            position; // sampler position of the first sample of the next batch handed out; consumer writes

    /**
     * Starts loading at {@code sampler.position()}.
     *
     * @param dataset      images
     * @param augmentation multi-crop recipe
     * @param collator     stacking and iBOT masks
     * @param sampler      index stream; the loader takes it over (it runs ahead by the prefetched batches)
     * @param batchSize    images per batch (dinov2 {@code batch_size_per_gpu})
     * @param seed         run seed for augmentation and masking
     * @param threads      worker threads, &ge; 1
     * @param prefetch     batches in flight, &ge; 1
     */
    public BatchLoader(
            ImageDataset dataset,
            MultiCropAugmentation augmentation,
            Collator collator,
            EpochSampler sampler,
            int batchSize,
            long seed,
            int threads,
            int prefetch) {
        if (batchSize <= 0 || threads <= 0 || prefetch <= 0) {
            throw new IllegalArgumentException(
                    "batchSize, threads and prefetch must be >= 1: " + batchSize + ", " + threads + ", " + prefetch);
        }
        if (sampler.size() != dataset.size()) {
            throw new IllegalArgumentException(
                    "sampler is over " + sampler.size() + " items but the dataset has " + dataset.size());
        }
        this.dataset = dataset;
        this.augmentation = Objects.requireNonNull(augmentation, "augmentation");
        this.collator = Objects.requireNonNull(collator, "collator");
        this.sampler = sampler;
        this.batchSize = batchSize;
        this.seed = seed;
        this.position = sampler.position();
        this.executor = Executors.newFixedThreadPool(threads, daemonThreads("dinoj-loader-" + POOLS.incrementAndGet()));
        log.info(
                "Loading [{}]: batch [{}], threads [{}], prefetch [{}], seed [{}], from position [{}] (step [{}])",
                dataset.describe(),
                batchSize,
                threads,
                prefetch,
                seed,
                position,
                position / batchSize);
        for (int i = 0; i < prefetch; i++) {
            pending.add(submitNextBatch());
        }
    }

    /**
     * The next batch, blocking until it is ready. A batch that fails is consumed: the exception is thrown once
     * and the following call returns the batch after it.
     *
     * @throws dev.dinoj.pipeline.data.DatasetException if an image of the batch cannot be read
     * @throws IllegalStateException                    if the loader is (or gets) closed, or the thread is
     *                                                  interrupted (then nothing is consumed)
     */
    public synchronized CollatedBatch next() {
        CompletableFuture<CollatedBatch> head = pending.peek();
        if (closed.get() || head == null) {
            throw new IllegalStateException("BatchLoader is closed");
        }
        CollatedBatch batch = null;
        Throwable failure = null;
        try {
            batch = head.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the batch at position " + position, e);
        } catch (CancellationException e) {
            throw new IllegalStateException("BatchLoader was closed while waiting for a batch", e);
        } catch (ExecutionException e) {
            failure = e.getCause(); // get() has already unwrapped the CompletionException
        }
        pending.poll(); // consumed, even if it failed
        long batchPosition = position;
        position += batchSize;
        try {
            pending.add(submitNextBatch());
        } catch (RejectedExecutionException e) {
            throw new IllegalStateException("BatchLoader is closed", e);
        }
        if (failure instanceof RuntimeException re) {
            throw re;
        }
        if (failure instanceof Error err) {
            throw err;
        }
        if (failure != null) {
            throw new IllegalStateException("loading the batch at position " + batchPosition + " failed", failure);
        }
        return batch;
    }

    /**
     * Sampler position of the first sample of the next batch {@link #next()} returns: save it in a checkpoint,
     * and on restart {@link EpochSampler#seek seek} a fresh sampler to it.
     */
    public long position() {
        return position;
    }

    /** Step of the next batch: {@code position() / batchSize}. */
    public long step() {
        return position / batchSize;
    }

    /** Submits the batch at the sampler's current position and advances the sampler by one batch. */
    private CompletableFuture<CollatedBatch> submitNextBatch() {
        long first = sampler.position();
        long step = first / batchSize;
        List<CompletableFuture<MultiCropSample>> samples = new ArrayList<>(batchSize);
        for (int b = 0; b < batchSize; b++) {
            long samplePosition = sampler.position();
            int index = sampler.next();
            samples.add(CompletableFuture.supplyAsync(
                    () -> augmentation.apply(dataset.image(index), Seeds.random(seed, Seeds.SAMPLE, samplePosition)),
                    executor));
        }
        return CompletableFuture.allOf(samples.toArray(CompletableFuture[]::new))
                .thenApplyAsync(
                        done -> {
                            List<MultiCropSample> list = new ArrayList<>(batchSize);
                            for (CompletableFuture<MultiCropSample> f : samples) {
                                list.add(f.join());
                            }
                            return collator.collate(list, Seeds.random(seed, Seeds.COLLATE, step));
                        },
                        executor);
    }

    /**
     * Cancels the prefetched batches and stops the worker threads. Idempotent; may be called from any thread
     * (a consumer blocked in {@link #next()} then gets an {@link IllegalStateException}).
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        executor.shutdownNow();
        pending.forEach(f -> f.cancel(true));
        try {
            if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
                log.warn("Loader threads did not stop within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static ThreadFactory daemonThreads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
