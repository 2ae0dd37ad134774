package dev.dinoj.pipeline.masking;

/**
 * One training batch as dinov2's {@code collate_data_and_cast} returns it. Crops are stacked crop-major: all
 * images' crop 0, then all images' crop 1, and so on (row {@code r = crop * batchSize + image}).
 *
 * @param batchSize      images in the batch (B); there are {@code 2B} global crop rows
 * @param globalSize     side of a global crop (G)
 * @param localSize      side of a local crop (l)
 * @param nLocal         local crops per image (L)
 * @param globalCrops    {@code collated_global_crops} {@code [2B, 3, G, G]}, normalised
 * @param localCrops     {@code collated_local_crops} {@code [L*B, 3, l, l]}, normalised
 * @param masks          {@code collated_masks} {@code [2B, N]}: true = patch masked (N = patch tokens of a
 *                       global crop), one row per global crop row
 * @param maskIndices    {@code mask_indices_list}: flat indices into {@code masks} of its true entries, ascending
 * @param masksWeight    {@code masks_weight}: for each entry of {@code maskIndices}, 1 / (masked patches of its
 *                       row)
 * @param upperbound     {@code upperbound}: sum over masked rows of {@code int(N * probs[i+1])}
 * @param nMaskedPatches {@code n_masked_patches}: {@code maskIndices.length}
 */
public record CollatedBatch(
        int batchSize,
        int globalSize,
        int localSize,
        int nLocal,
        float[] globalCrops,
        float[] localCrops,
        boolean[] masks,
        long[] maskIndices,
        float[] masksWeight,
        int upperbound,
        int nMaskedPatches) {

    public CollatedBatch {
        check(batchSize > 0 && globalSize > 0 && localSize > 0 && nLocal >= 0, "bad sizes");
        check(globalCrops.length == 2L * batchSize * 3 * globalSize * globalSize, "globalCrops must be [2B,3,G,G]");
        check(
                localCrops.length == (long) nLocal * batchSize * 3 * localSize * localSize,
                "localCrops must be [L*B,3,l,l]");
        check(masks.length % (2 * batchSize) == 0, "masks must be [2B, N]");
        check(
                maskIndices.length == nMaskedPatches && masksWeight.length == nMaskedPatches,
                "maskIndices and masksWeight must have nMaskedPatches entries");
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }

    /** N: patch tokens per global crop (the length of a mask row). */
    public int nTokens() {
        return masks.length / (2 * batchSize);
    }

    /** Masked patches in global crop row {@code row}. */
    public int maskedCount(int row) {
        int n = nTokens();
        int count = 0;
        for (int i = row * n; i < (row + 1) * n; i++) {
            count += masks[i] ? 1 : 0;
        }
        return count;
    }
}
