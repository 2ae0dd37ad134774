package dev.dinoj.pipeline.augment;

/**
 * The crops of one image (dinov2's {@code output["global_crops"]} and {@code output["local_crops"]}), each a
 * normalised float CHW array.
 *
 * @param globalSize  side of a global crop (G)
 * @param localSize   side of a local crop (l)
 * @param globalCrops 2 arrays of {@code [3, G, G]} values: crop 1 (blur only per config), crop 2 (may be
 *                    solarized)
 * @param localCrops  {@code localCropsNumber} arrays of {@code [3, l, l]} values
 */
public record MultiCropSample(int globalSize, int localSize, float[][] globalCrops, float[][] localCrops) {
    public MultiCropSample {
        if (globalCrops == null || globalCrops.length != 2) {
            throw new IllegalArgumentException("there must be 2 global crops");
        }
        checkCrops("global", globalCrops, globalSize);
        checkCrops("local", localCrops, localSize);
    }

    private static void checkCrops(String kind, float[][] crops, int size) {
        for (float[] crop : crops) {
            if (crop == null || crop.length != 3 * size * size) {
                throw new IllegalArgumentException(kind + " crop must have 3*" + size + "*" + size + " values");
            }
        }
    }

    /** Number of local crops. */
    public int localCropsNumber() {
        return localCrops.length;
    }
}
