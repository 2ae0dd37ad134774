package dev.dinoj.pipeline.augment;

/**
 * A crop rectangle in source pixels, as torchvision's {@code RandomResizedCrop.get_params} returns it:
 * {@code (i, j, h, w)} = (top, left, height, width).
 */
record CropBox(int top, int left, int height, int width) {
    /** Fraction of the source image's area this box covers. */
    double areaFraction(int imageWidth, int imageHeight) {
        return (double) height * width / ((double) imageHeight * imageWidth);
    }
}
