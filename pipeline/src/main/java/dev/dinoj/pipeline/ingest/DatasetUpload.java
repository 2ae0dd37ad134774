package dev.dinoj.pipeline.ingest;

import akka.actor.ActorSystem;
import akka.stream.javadsl.Sink;
import akka.stream.javadsl.Source;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.storage.ObjectInfo;
import dev.dinoj.pipeline.storage.ObjectStores;
import dev.dinoj.pipeline.storage.StorageException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.PrimitiveIterator;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.IntStream;

/**
 * Uploads a dataset into a bucket (or directory) as one PNG object per image, so demos and tests start from real object
 * storage content: {@code <prefix>/<label>/<index:05d>.png} (label {@code unlabelled} when there are none). Already
 * present keys are skipped, so an interrupted upload can simply be run again.
 */
public final class DatasetUpload {
    private DatasetUpload() {}

    /**
     * Counters.
     *
     * @param uploaded objects written
     * @param skipped  objects already there
     * @param bytes    bytes written
     * @param seconds  wall time
     */
    public record Result(long uploaded, long skipped, long bytes, double seconds) {
        public String describe() {
            return String.format(
                    Locale.ROOT,
                    "%d objects uploaded (%.1f MB), %d already there, %.1f s, %.0f objects/s",
                    uploaded,
                    bytes / 1e6,
                    skipped,
                    seconds,
                    seconds > 0 ? uploaded / seconds : 0);
        }
    }

    /** The key of image {@code i} with label {@code label} (-1 = none) under {@code dest}. */
    public static String keyOf(ObjectStores.Location dest, int i, int label) {
        return dest.key(
                (label < 0 ? "unlabelled" : Integer.toString(label)) + String.format(Locale.ROOT, "/%05d.png", i));
    }

    /**
     * Uploads images {@code [0, limit)} of {@code ds} (all when {@code limit <= 0}).
     *
     * @param parallelism puts in flight
     * @param progress    called with the number of images handled so far (may be null)
     */
    public static Result upload(
            ActorSystem system,
            ObjectStores.Location dest,
            ImageDataset ds,
            int limit,
            int parallelism,
            Consumer<Long> progress) {
        long t0 = System.nanoTime();
        int n = limit > 0 ? Math.min(limit, ds.size()) : ds.size();
        dest.store().ensureContainer().toCompletableFuture().join();
        Set<String> existing = new HashSet<>();
        dest.store()
                .list(dest.prefix())
                .runWith(Sink.foreach(i -> existing.add(i.key())), system)
                .toCompletableFuture()
                .join();
        AtomicLong uploaded = new AtomicLong();
        AtomicLong skipped = new AtomicLong();
        AtomicLong bytes = new AtomicLong();
        AtomicLong done = new AtomicLong();
        join(Source.range(0, n - 1)
                .mapAsyncUnordered(Math.max(1, parallelism), i -> {
                    String key = keyOf(dest, i, ds.label(i));
                    if (existing.contains(key)) {
                        skipped.incrementAndGet();
                        return CompletableFuture.completedFuture(new ObjectInfo(key, 0, ""));
                    }
                    return CompletableFuture.supplyAsync(
                                    () -> ImageEncoding.png(ds.image(i))) // encode off the stream thread
                            .thenCompose(png -> {
                                bytes.addAndGet(png.length);
                                uploaded.incrementAndGet();
                                return dest.store().put(key, png, "image/png");
                            });
                })
                .runWith(
                        Sink.foreach(x -> {
                            long d = done.incrementAndGet();
                            if (progress != null) {
                                progress.accept(d);
                            }
                        }),
                        system));
        return new Result(uploaded.get(), skipped.get(), bytes.get(), (System.nanoTime() - t0) / 1e9);
    }

    /**
     * Uploads query images: the first {@code perClass} images of each class in {@code classes} ({@code null} = every
     * class of {@code ds}), taking indices in the order of {@code order}, as {@link #keyOf} objects under {@code dest}.
     *
     * @return the dataset indices uploaded, in the order taken
     */
    public static List<Integer> uploadPerClass(
            ActorSystem system,
            ObjectStores.Location dest,
            ImageDataset ds,
            IntStream order,
            int[] classes,
            int perClass,
            int parallelism) {
        int numClasses = Math.max(
                ds.numClasses(),
                classes == null ? 0 : IntStream.of(classes).max().orElse(-1) + 1);
        boolean[] wanted = new boolean[numClasses];
        int want = 0;
        for (int c : classes == null ? IntStream.range(0, ds.numClasses()).toArray() : classes) {
            if (!wanted[c]) {
                wanted[c] = true;
                want += perClass;
            }
        }
        int[] taken = new int[numClasses];
        List<Integer> picked = new ArrayList<>();
        for (PrimitiveIterator.OfInt it = order.iterator(); it.hasNext() && picked.size() < want; ) {
            int i = it.nextInt();
            int l = ds.label(i);
            if (l >= 0 && l < numClasses && wanted[l] && taken[l] < perClass) {
                taken[l]++;
                picked.add(i);
            }
        }
        dest.store().ensureContainer().toCompletableFuture().join();
        join(Source.from(picked)
                .mapAsyncUnordered(
                        Math.max(1, parallelism),
                        i -> CompletableFuture.supplyAsync(() -> ImageEncoding.png(ds.image(i)))
                                .thenCompose(png -> dest.store().put(keyOf(dest, i, ds.label(i)), png, "image/png")))
                .runWith(Sink.ignore(), system));
        return List.copyOf(picked);
    }

    /** Waits for a stream; its failure is rethrown as the storage error that caused it. */
    private static void join(CompletionStage<?> done) {
        try {
            done.toCompletableFuture().join();
        } catch (CompletionException e) {
            Throwable c = StorageException.unwrap(e);
            throw c instanceof RuntimeException re ? re : new IllegalStateException(c);
        }
    }
}
