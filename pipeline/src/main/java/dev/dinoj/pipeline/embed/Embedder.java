package dev.dinoj.pipeline.embed;

import dev.dinoj.pipeline.data.RgbImage;
import java.util.List;

/**
 * Maps images to L2-normalised feature vectors. The curation stages only see this interface: the trainer's ViT (an
 * adapter in {@code evaluation}), {@link ThumbnailEmbedder}, or anything else.
 *
 * <p>Calls come from one thread at a time. Images may differ in size; an implementation resizes as it needs.
 */
public interface Embedder extends AutoCloseable {
    /** Length of each embedding. */
    int dim();

    /**
     * A stable identifier of the function (kind, parameters, checkpoint): embeddings cached under another id are never
     * reused.
     */
    String id();

    /**
     * Embeddings of {@code images}, row-major: row {@code i} (length {@link #dim()}) belongs to {@code images.get(i)}
     * and has unit L2 norm.
     */
    float[] embed(List<RgbImage> images);

    @Override
    default void close() {}
}
