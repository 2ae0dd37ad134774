package dev.dinoj.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

/**
 * Distillation batches: the student sees its global crops unmasked, and iBOT scores every patch of both global crops
 * (the DINOv2 paper's distillation recipe). The masks of the collated batch are dropped; the "masked patch" indices
 * become all 2B·N patches, each weighted 1 / N as iBOT weights the patches of an image.
 */
public final class DistillBatches {

    private DistillBatches() {}

    /** {@code batch} without masks and with iBOT on all patches of the global crops. */
    public static StepBatch allPatches(NDManager manager, StepBatch batch, int patchSize) {
        long rows = batch.globalCrops().getShape().get(0); // 2B
        long side = batch.globalCrops().getShape().get(2) / patchSize;
        long n = side * side; // N patches per crop
        long[] all = new long[(int) (rows * n)];
        float[] w = new float[all.length];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
            w[i] = (float) (1.0 / n);
        }
        NDArray indices = manager.create(all); // (2B·N) int64
        NDArray weights = manager.create(w); // (2B·N)
        return new StepBatch(
                batch.globalCrops(), batch.localCrops(), null, indices, weights, (int) (rows * n), (int) (rows * n));
    }
}
