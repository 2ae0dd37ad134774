package dev.dinoj.actors.data;

import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.pipeline.data.RgbImage;
import java.util.HashMap;
import java.util.Map;

/**
 * The images of one step that a worker fetched from the data shards, as an {@link ImageDataset} of the full dataset's
 * size: the trainer's {@code RankBatches} reads them by index exactly as it would read the whole dataset.
 */
public final class FetchedImages implements ImageDataset {

    private final int size;
    private final Map<Integer, RgbImage> images = new HashMap<>();
    private final Map<Integer, String> keys = new HashMap<>();

    public FetchedImages(int size) {
        this.size = size;
    }

    /** Adds the images of a reply; throws if the shard reported an error. */
    public void add(DataShard.Samples s) {
        if (!s.error().isEmpty()) {
            throw new IllegalStateException("data shard: " + s.error());
        }
        int off = 0;
        for (int i = 0; i < s.indices().length; i++) {
            images.put(s.indices()[i], SampleCodec.decode(s.widths()[i], s.heights()[i], s.rgb(), off));
            keys.put(s.indices()[i], s.keys() != null && i < s.keys().length ? s.keys()[i] : "");
            off += SampleCodec.length(s.widths()[i], s.heights()[i]);
        }
    }

    /** The object key of fetched image {@code index} ("" when the dataset has none). */
    public String key(int index) {
        return keys.getOrDefault(index, "");
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public RgbImage image(int index) {
        RgbImage img = images.get(index);
        if (img == null) {
            throw new IndexOutOfBoundsException("image " + index + " was not fetched for this step");
        }
        return img;
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
        return "fetched " + images.size() + " of " + size + " images";
    }
}
