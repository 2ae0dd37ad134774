package dev.dinoj.evaluation.features;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import dev.dinoj.evaluation.knn.FeatureSet;
import dev.dinoj.pipeline.data.ImageDataset;
import dev.dinoj.trainer.model.BackboneOutput;
import dev.dinoj.trainer.model.VisionTransformer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * Batched features of every {@link FeatureKind} from a frozen backbone (eval mode, no stochastic depth), or from
 * the pixels when there is none. {@link FeatureKind#CLS}, {@link FeatureKind#CLS_AVGPOOL} and
 * {@link FeatureKind#PIXELS} are the same numbers {@link FeatureExtractor} gives.
 *
 * <p>The intermediate blocks of {@link FeatureKind#LAST_BLOCKS} come from running
 * {@link VisionTransformer#prepareTokens}, {@link VisionTransformer#block} and {@link VisionTransformer#outputs}
 * (the final norm) block by block, as dinov2's {@code get_intermediate_layers(x, n, return_class_token=True)}.
 */
public final class FrozenFeatures {

    /** Patch side of the pixel baseline's {@link FeatureKind#PATCH_TOKENS} when no backbone says otherwise. */
    public static final int DEFAULT_PIXEL_PATCH = 4;

    private final VisionTransformer backbone;
    private final int batchSize;
    private final int pixelPatch;

    /**
     * @param backbone  the frozen model, or null for pixel features
     * @param batchSize images per forward pass
     */
    public FrozenFeatures(VisionTransformer backbone, int batchSize) {
        if (batchSize < 1) {
            throw new IllegalArgumentException("batch size must be >= 1: " + batchSize);
        }
        this.backbone = backbone;
        this.batchSize = batchSize;
        this.pixelPatch =
                backbone == null ? DEFAULT_PIXEL_PATCH : backbone.config().patchSize();
    }

    /** @return the number of last blocks {@link FeatureKind#LAST_BLOCKS} concatenates: {@code min(4, depth)} */
    public int lastBlocks() {
        return backbone == null ? 0 : Math.min(4, backbone.config().depth());
    }

    /** @return the patch side (the backbone's, or {@link #DEFAULT_PIXEL_PATCH} for pixels) */
    public int patchSize() {
        return pixelPatch;
    }

    /**
     * Features of the first {@code n} images of {@code ds} at side {@code size}.
     *
     * @param progress called with the number of images done after each batch (may be null)
     */
    public FeatureSet extract(
            ImageDataset ds, int n, int size, FeatureKind kind, NDManager manager, IntConsumer progress) {
        if (backbone == null && kind != FeatureKind.PIXELS && kind != FeatureKind.PATCH_TOKENS) {
            throw new IllegalArgumentException("a backbone is needed for " + kind.label() + " features");
        }
        if (size % pixelPatch != 0 && (backbone != null || kind == FeatureKind.PATCH_TOKENS)) {
            throw new IllegalArgumentException(
                    "evaluation size " + size + " is not a multiple of the patch size " + pixelPatch);
        }
        int[] labels = new int[n];
        float[] data = null;
        int dim = -1;
        for (int start = 0; start < n; start += batchSize) {
            int b = Math.min(batchSize, n - start);
            try (NDManager m = manager.newSubManager();
                    NDScope scope = new NDScope()) {
                NDArray images = EvalImages.batch(ds, start, b, size, m, labels); // (b, 3, S, S)
                NDArray feats = features(images, kind, size); // (b, F)
                float[] f = feats.toFloatArray();
                if (data == null) {
                    dim = (int) feats.getShape().get(1);
                    data = new float[Math.multiplyExact(n, dim)];
                }
                System.arraycopy(f, 0, data, start * dim, f.length);
                scope.suppressNotUsedWarning();
            }
            if (progress != null) {
                progress.accept(start + b);
            }
        }
        if (data == null) {
            throw new IllegalArgumentException(ds.describe() + ": no images to extract features from");
        }
        for (int i = 0; i < n; i++) {
            if (labels[i] < 0) {
                throw new IllegalArgumentException(ds.describe() + ": image " + i + " has no label; the evaluation "
                        + "protocols need labelled images");
            }
        }
        return new FeatureSet(data, n, dim, labels);
    }

    private NDArray features(NDArray images, FeatureKind kind, int size) {
        long b = images.getShape().get(0);
        switch (kind) {
            case PIXELS:
                return images.reshape(b, -1); // (b, 3·S·S)
            case PATCH_TOKENS:
                if (backbone == null) {
                    int g = size / pixelPatch;
                    return images.reshape(b, 3, g, pixelPatch, g, pixelPatch) // (b, 3, g, p, g, p)
                            .transpose(0, 2, 4, 1, 3, 5) // (b, g, g, 3, p, p)
                            .reshape(b, -1); // (b, g²·3·p·p)
                }
                return backbone.forward(images, null, false, null).patchTokens().reshape(b, -1); // (b, N·D)
            case CLS:
                return backbone.forward(images, null, false, null).clsToken(); // (b, D)
            case CLS_AVGPOOL: {
                BackboneOutput out = backbone.forward(images, null, false, null);
                return NDArrays.concat(
                        new NDList(out.clsToken(), out.patchTokens().mean(new int[] {1})), 1); // (b, 2D)
            }
            case LAST_BLOCKS:
                return lastBlocks(images);
            default:
                throw new IllegalStateException(kind.toString());
        }
    }

    /** CLS of the last n blocks (each through the final norm), then the last block's mean patch token. */
    private NDArray lastBlocks(NDArray images) {
        int depth = backbone.config().depth();
        int n = lastBlocks();
        NDArray x = backbone.prepareTokens(images, null); // (b, T, D)
        List<NDArray> parts = new ArrayList<>(n + 1);
        BackboneOutput last = null;
        for (int i = 0; i < depth; i++) {
            x = backbone.block(i, x, false, null);
            if (i >= depth - n) {
                last = backbone.outputs(x);
                parts.add(last.clsToken()); // (b, D)
            }
        }
        parts.add(last.patchTokens().mean(new int[] {1})); // (b, D)
        return NDArrays.concat(new NDList(parts), 1); // (b, (n + 1)·D)
    }
}
