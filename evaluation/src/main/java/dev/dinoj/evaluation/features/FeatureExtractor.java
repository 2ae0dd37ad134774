package dev.dinoj.evaluation.features;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.trainer.model.BackboneOutput;
import dev.dinoj.trainer.model.GradMode;
import dev.dinoj.trainer.model.VisionTransformer;
import java.util.function.IntConsumer;

/**
 * Batched features of a frozen backbone, as dinov2's evaluations take them: each image resized (bicubic) to the
 * evaluation size, normalised with the ImageNet mean/std ({@link EvalImages}), run through {@code forward_features} in eval mode;
 * the feature is the normalised CLS token, or CLS ⊕ mean of the patch tokens.
 */
public final class FeatureExtractor {

    /** Which tokens form the feature vector. */
    public enum Kind {
        /** {@code x_norm_clstoken} (D). */
        CLS,
        /** CLS concatenated with the average of {@code x_norm_patchtokens} (2D), as the linear probe's avgpool. */
        CLS_AVGPOOL,
        /** Raw pixels of the resized, normalised image (3·S·S): the no-learning baseline. */
        PIXELS
    }

    private final VisionTransformer backbone;
    private final int size;
    private final Kind kind;
    private final int batchSize;

    /**
     * @param backbone  the model (null only for {@link Kind#PIXELS})
     * @param size      evaluation image side (a multiple of the patch size)
     * @param kind      feature kind
     * @param batchSize images per forward pass
     */
    public FeatureExtractor(VisionTransformer backbone, int size, Kind kind, int batchSize) {
        if (backbone == null && kind != Kind.PIXELS) {
            throw new IllegalArgumentException("a backbone is needed for " + kind + " features");
        }
        this.backbone = backbone;
        this.size = size;
        this.kind = kind;
        this.batchSize = batchSize;
    }

    /**
     * Features of the first {@code limit} images (all when {@code limit <= 0}) with their labels.
     *
     * @param progress called with the number of images done after each batch (may be null)
     */
    public FeatureSet extract(ImageDataset ds, int limit, NDManager manager, IntConsumer progress) {
        GradMode.offOnThisThread(); // frozen features: no autograd history on any thread
        int n = limit > 0 ? Math.min(limit, ds.size()) : ds.size();
        int[] labels = new int[n];
        float[] data = null;
        int dim = -1;
        for (int start = 0; start < n; start += batchSize) {
            int b = Math.min(batchSize, n - start);
            try (NDManager m = manager.newSubManager();
                    NDScope scope = new NDScope()) {
                NDArray images = EvalImages.batch(ds, start, b, size, m, labels); // (b, 3, S, S)
                NDArray feats = features(images); // (b, F)
                float[] f = feats.toFloatArray();
                if (data == null) {
                    dim = (int) feats.getShape().get(1);
                    data = new float[n * dim];
                }
                System.arraycopy(f, 0, data, start * dim, f.length);
                scope.suppressNotUsedWarning();
            }
            if (progress != null) {
                progress.accept(start + b);
            }
        }
        return new FeatureSet(data, n, dim, labels);
    }

    private NDArray features(NDArray images) {
        long b = images.getShape().get(0);
        if (kind == Kind.PIXELS) {
            return images.reshape(b, -1);
        }
        BackboneOutput out = backbone.forward(images, null, false, null);
        if (kind == Kind.CLS) {
            return out.clsToken();
        }
        return NDArrays.concat(new NDList(out.clsToken(), out.patchTokens().mean(new int[] {1})), 1);
    }
}
