package dev.dinoj.actors.data;

import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.PixelGuard;
import dev.dinoj.pipeline.data.RgbImage;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;

/**
 * The images of one step that a worker fetched from the data shards, as an {@link ImageDataset} of the full dataset's
 * size: the trainer's {@code RankBatches} reads them by index exactly as it would read the whole dataset. Replies
 * arrive in pieces that fit Artery's frame ({@link DataShard.Samples}); a sample cut at the end of a reply is completed
 * by the next. The payloads stay as they travelled (stored image bytes are a few KB to a few MB); {@link #image}
 * decodes on the calling thread, so the loader's threads decode and augment in parallel, and a full-resolution photo
 * lives only while it is cropped.
 */
public final class FetchedImages implements ImageDataset {

    /** Where a reply left its request: the samples it completed, and the bytes of a cut one (0 = none). */
    public record Continuation(int completed, int nextFrom) {}

    private final int size;
    private final PixelGuard guard;
    private final Map<Integer, SampleCodec.Wire> samples = new HashMap<>();
    private final Map<Integer, String> keys = new HashMap<>();
    private final Map<Integer, Partial> partials = new HashMap<>();
    private final SortedSet<Integer> skipped = new TreeSet<>();

    private record Partial(SampleCodec.Wire wire, int filled) {}

    public FetchedImages(int size, PixelGuard guard) {
        this.size = size;
        this.guard = guard;
    }

    public FetchedImages(int size) {
        this(size, PixelGuard.standard());
    }

    /**
     * Adds the samples of a reply; throws if the shard reported an error or the pieces do not line up.
     *
     * @return how far the reply got: ask again for the requested indices from {@code completed} on, the first from byte
     *     {@code nextFrom}
     */
    public synchronized Continuation add(DataShard.Samples s) {
        if (!s.error().isEmpty()) {
            throw new IllegalStateException("data shard: " + s.error());
        }
        if (s.skipped() != null) {
            for (int j : s.skipped()) {
                skipped.add(j);
            }
        }
        int off = 0;
        int completed = 0;
        int nextFrom = 0;
        for (int i = 0; i < s.indices().length; i++) {
            int index = s.indices()[i];
            int total = s.totals()[i];
            int from = i == 0 ? s.firstFrom() : 0;
            int take = Math.min(total - from, s.data().length - off);
            Partial p = partials.remove(index);
            if (from > 0 && (p == null || p.filled() != from)) {
                throw new IllegalStateException("data shard sent sample " + index + " from byte " + from + " but "
                        + (p == null ? 0 : p.filled()) + " bytes of it arrived before");
            }
            SampleCodec.Wire w = p != null
                    ? p.wire()
                    : new SampleCodec.Wire(s.kinds()[i], s.widths()[i], s.heights()[i], new byte[total]);
            System.arraycopy(s.data(), off, w.bytes(), from, take);
            off += take;
            keys.put(index, s.keys() != null && i < s.keys().length ? s.keys()[i] : "");
            if (from + take == total) {
                samples.put(index, w);
                completed++;
            } else {
                partials.put(index, new Partial(w, from + take));
                nextFrom = from + take;
            }
        }
        return new Continuation(completed, nextFrom);
    }

    /**
     * Fetches the samples {@code idx} of one data shard: {@code ask.apply(indices, fromByte)} sends a
     * {@link DataShard.GetSamples}; each reply is added and the rest asked for from where it stopped, until every sample
     * has arrived. Safe to run for several shards at once.
     */
    public CompletionStage<Void> fetch(int[] idx, BiFunction<int[], Integer, CompletionStage<DataShard.Samples>> ask) {
        return fetch(idx, 0, ask);
    }

    private CompletionStage<Void> fetch(
            int[] idx, int from, BiFunction<int[], Integer, CompletionStage<DataShard.Samples>> ask) {
        return ask.apply(idx, from).thenCompose(s -> {
            Continuation c = add(s);
            if (c.completed() >= idx.length) {
                return CompletableFuture.completedFuture(null);
            }
            if (c.completed() == 0 && c.nextFrom() <= from) {
                throw new IllegalStateException("data shard made no progress on sample " + idx[0]);
            }
            // a cut sample is the next request's first, from where it stopped
            return fetch(Arrays.copyOfRange(idx, c.completed(), idx.length), c.nextFrom(), ask);
        });
    }

    /** The object key of fetched image {@code index} ("" when the dataset has none). */
    public String key(int index) {
        return keys.getOrDefault(index, "");
    }

    /**
     * The dataset indices, ascending, of the images over the pixel guard that the data shards skipped in place of the
     * fetched samples ({@link DataShard.Samples#skipped}); empty when none.
     */
    public synchronized long[] skipped() {
        return skipped.stream().mapToLong(Integer::longValue).toArray();
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public RgbImage image(int index) {
        SampleCodec.Wire w = samples.get(index);
        if (w == null) {
            throw new IndexOutOfBoundsException("image " + index + " was not fetched for this step");
        }
        if (w.kind() == SampleCodec.RGB8) {
            return SampleCodec.decode(w.width(), w.height(), w.bytes(), 0);
        }
        String key = key(index);
        return guard.decode(w.bytes(), key.isEmpty() ? "fetched image " + index : key);
    }

    @Override
    public int label(int index) {
        return -1;
    }

    @Override
    public int numClasses() {
        return 0;
    }

    @Override
    public String describe() {
        return "fetched " + samples.size() + " of " + size + " images";
    }
}
