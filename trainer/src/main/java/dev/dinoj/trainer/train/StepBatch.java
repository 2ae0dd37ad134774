package dev.dinoj.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.dinoj.pipeline.masking.CollatedBatch;

/**
 * One collated batch on the device, in dinov2's {@code collate_data_and_cast} layout.
 *
 * @param globalCrops    (2B, 3, G, G) crop-major
 * @param localCrops     (L·B, 3, l, l) crop-major, or null without local crops
 * @param masks          (2B, N) boolean
 * @param maskIndices    (n) int64 flat indices of masked patches into the 2B·N patch tokens
 * @param masksWeight    (n) 1 / masked patches of the patch's image
 * @param upperbound     dinov2's buffer size bound (kept for parity; rows are independent here)
 * @param nMaskedPatches n
 */
public record StepBatch(
        NDArray globalCrops,
        NDArray localCrops,
        NDArray masks,
        NDArray maskIndices,
        NDArray masksWeight,
        int upperbound,
        int nMaskedPatches) {

    /** Images per crop (B). */
    public int batchSize() {
        return (int) globalCrops.getShape().get(0) / 2;
    }

    /** Creates device arrays from host data. */
    public static StepBatch fromHost(
            NDManager m,
            int batch,
            int globalSize,
            float[] global,
            int nLocal,
            int localSize,
            float[] local,
            boolean[] masks,
            long[] maskIndices,
            float[] masksWeight,
            int upperbound) {
        NDArray g = m.create(global, new Shape(2L * batch, 3, globalSize, globalSize));
        NDArray l = nLocal == 0 ? null : m.create(local, new Shape((long) nLocal * batch, 3, localSize, localSize));
        long n = masks.length / (2L * batch);
        NDArray mk = m.create(masks, new Shape(2L * batch, n));
        NDArray idx = m.create(maskIndices, new Shape(maskIndices.length));
        NDArray w = m.create(masksWeight, new Shape(masksWeight.length));
        return new StepBatch(g, l, mk, idx, w, upperbound, maskIndices.length);
    }

    /** The device arrays of a collated batch (its arrays in {@code m}). */
    public static StepBatch of(NDManager m, CollatedBatch cb) {
        return fromHost(
                m,
                cb.batchSize(),
                cb.globalSize(),
                cb.globalCrops(),
                cb.nLocal(),
                cb.localSize(),
                cb.localCrops(),
                cb.masks(),
                cb.maskIndices(),
                cb.masksWeight(),
                cb.upperbound());
    }
}
