package dev.dinoj.evaluation.features;

import ai.djl.ndarray.NDManager;
import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.trainer.weights.Backbones;

/**
 * The features every protocol asks for: one model source, one cache. The backbone is loaded on the first cache
 * miss only, so a fully cached evaluation never touches the checkpoint's weights.
 *
 * <pre>{@code
 * try (EvalFeatures fx = new EvalFeatures(ModelSource.checkpoint(run), FeatureCache.defaultFor(src), 256, null)) {
 *     FeatureSet train = fx.get(EvalDataset.fashionMnist(dir, true), 10000, FeatureKind.CLS);
 * }
 * }</pre>
 */
public final class EvalFeatures implements AutoCloseable {

    /** Told how far an extraction is. */
    @FunctionalInterface
    public interface Listener {
        /**
         * @param what a label such as {@code fashion-mnist:test cls}
         * @param done images done
         * @param total images to do
         */
        void progress(String what, int done, int total);
    }

    private final ModelSource source;
    private final FeatureCache cache;
    private final int batchSize;
    private final Listener listener;
    private NDManager manager;
    private Backbones.Loaded model;
    private FrozenFeatures extractor;

    /**
     * @param source where the backbone comes from
     * @param cache where features are kept ({@link FeatureCache#none()} for no caching)
     * @param batchSize images per forward pass
     * @param listener progress (may be null)
     */
    public EvalFeatures(ModelSource source, FeatureCache cache, int batchSize, Listener listener) {
        this.source = source;
        this.cache = cache;
        this.batchSize = batchSize;
        this.listener = listener;
    }

    /** @return the model source */
    public ModelSource source() {
        return source;
    }

    /** @return the cache */
    public FeatureCache cache() {
        return cache;
    }

    /**
     * The evaluation side for a dataset: its evaluation transform's crop when it has one, else the backbone's training
     * size, or the dataset's own for pixels.
     *
     * @param ds the dataset
     * @return the side
     */
    public int evalSize(EvalDataset ds) {
        return ds.side() > 0 ? ds.side() : source.evalSize(ds.nativeSize());
    }

    /** @return the patch side of {@link FeatureKind#PATCH_TOKENS} */
    public int patchSize() {
        return source.config() == null
                ? FrozenFeatures.DEFAULT_PIXEL_PATCH
                : source.config().patchSize();
    }

    /** @return the number of blocks {@link FeatureKind#LAST_BLOCKS} concatenates ({@code min(4, depth)}) */
    public int lastBlocks() {
        return source.config() == null ? 0 : Math.min(4, source.config().depth());
    }

    /** @return the backbone width D (0 for pixels) */
    public int embedDim() {
        return source.config() == null ? 0 : source.config().embedDim();
    }

    /**
     * Features of the first {@code limit} images at the evaluation size.
     *
     * @param ds the dataset
     * @param limit images (all when {@code <= 0} or larger than the dataset)
     * @param kind the feature kind
     * @return the features
     */
    public FeatureSet get(EvalDataset ds, int limit, FeatureKind kind) {
        return get(ds, limit, kind, evalSize(ds));
    }

    /**
     * Features of the first {@code limit} images at side {@code size} (the position embedding is interpolated).
     *
     * @param ds the dataset
     * @param limit images (all when {@code <= 0} or larger than the dataset)
     * @param kind the feature kind
     * @param size the image side, a multiple of the patch size
     * @return the features
     */
    public FeatureSet get(EvalDataset ds, int limit, FeatureKind kind, int size) {
        int n = limit > 0 ? Math.min(limit, ds.size()) : ds.size();
        String key = source.id() + "|data:" + ds.id() + "|n=" + n + "|size=" + size + "|kind=" + kind.label()
                + (kind == FeatureKind.LAST_BLOCKS ? "|blocks=" + lastBlocks() : "")
                + (kind == FeatureKind.PATCH_TOKENS ? "|patch=" + patchSize() : "");
        String what = ds.id() + " " + kind.label();
        return cache.getOrCompute(
                key,
                () -> extractor().extract(ds.images(), n, size, kind, manager, done -> {
                    if (listener != null) {
                        listener.progress(what, done, n);
                    }
                }));
    }

    private FrozenFeatures extractor() {
        if (extractor == null) {
            manager = NDManager.newBaseManager();
            model = source.open(manager);
            extractor = new FrozenFeatures(model == null ? null : model.model(), batchSize);
        }
        return extractor;
    }

    @Override
    public void close() {
        if (model != null) {
            model.close();
            model = null;
        }
        if (manager != null) {
            manager.close();
            manager = null;
        }
        extractor = null;
    }
}
