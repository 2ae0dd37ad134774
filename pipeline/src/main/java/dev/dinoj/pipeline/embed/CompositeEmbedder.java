package dev.dinoj.pipeline.embed;

import dev.dinoj.pipeline.data.RgbImage;
import java.util.List;

/**
 * Two embedders side by side, as the DINOv2 pipeline uses two models (SSCD for copy detection, a ViT for retrieval):
 * each row is {@code [copy embedding | retrieval embedding]}, each part unit-norm. {@link Curation} splits the columns
 * at {@link #copyDims()}.
 */
public final class CompositeEmbedder implements Embedder {
    private final Embedder copy;
    private final Embedder retrieval;

    public CompositeEmbedder(Embedder copy, Embedder retrieval) {
        this.copy = copy;
        this.retrieval = retrieval;
    }

    /** The copy-detection part. */
    public Embedder copy() {
        return copy;
    }

    /** The retrieval part. */
    public Embedder retrieval() {
        return retrieval;
    }

    /** Columns of the copy-detection part (the first ones). */
    public int copyDims() {
        return copy.dim();
    }

    @Override
    public int dim() {
        return copy.dim() + retrieval.dim();
    }

    @Override
    public String id() {
        return "copy[" + copy.id() + "]+retrieval[" + retrieval.id() + "]";
    }

    @Override
    public float[] embed(List<RgbImage> images) {
        float[] a = copy.embed(images);
        float[] b = retrieval.embed(images);
        int da = copy.dim();
        int db = retrieval.dim();
        float[] out = new float[images.size() * (da + db)];
        for (int i = 0; i < images.size(); i++) {
            System.arraycopy(a, i * da, out, i * (da + db), da);
            System.arraycopy(b, i * db, out, i * (da + db) + da, db);
        }
        return out;
    }

    @Override
    public void close() {
        copy.close();
        retrieval.close();
    }
}
