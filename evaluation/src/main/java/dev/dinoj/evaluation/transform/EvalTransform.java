package dev.dinoj.evaluation.transform;

import dev.dinoj.pipeline.augment.Geometric;
import dev.dinoj.pipeline.data.RgbImage;

/**
 * The geometric half of dinov2's {@code make_classification_eval_transform(resize_size=256, crop_size=224)}:
 * torchvision's {@code Resize(resize, BICUBIC)} (the shorter side becomes {@code resize}, PIL's antialiased bicubic,
 * {@link Geometric#resizeShorterSide}) then {@code CenterCrop(crop)}. The ImageNet mean/std normalisation that
 * follows is the features' ({@code EvalImages}).
 *
 * @param resize the shorter side after the resize
 * @param crop the side of the square centre crop, at most {@code resize}
 */
public record EvalTransform(int resize, int crop) {

    /** dinov2's evaluation resize for 224-px crops. */
    public static final int DINOV2_RESIZE = 256;

    /** dinov2's evaluation crop. */
    public static final int DINOV2_CROP = 224;

    /** @throws IllegalArgumentException when a side is below 1 or the crop is larger than the resized image */
    public EvalTransform {
        if (crop < 1) {
            throw new IllegalArgumentException("the crop must be at least 1 px: " + crop);
        }
        if (resize < crop) {
            throw new IllegalArgumentException(
                    "the resize (" + resize + " px, the shorter side) is smaller than the " + "crop (" + crop + " px)");
        }
    }

    /**
     * The default for a model whose input side is {@code inputSize}: dinov2's 256 / 224 for models of 224 px and over
     * (and for raw pixels, {@code inputSize} 0); a smaller model gets its own side as the crop and the same 256 : 224
     * ratio for the resize.
     *
     * @param inputSize the model's input side, or 0 for none
     * @return the transform
     */
    public static EvalTransform forInputSize(int inputSize) {
        int crop = inputSize <= 0 ? DINOV2_CROP : Math.min(inputSize, DINOV2_CROP);
        return new EvalTransform(resizeFor(crop), crop);
    }

    /**
     * The resize that keeps dinov2's 256 : 224 ratio for a crop.
     *
     * @param crop the crop side
     * @return {@code round(crop × 256 / 224)}
     */
    public static int resizeFor(int crop) {
        return (int) Math.round(crop * (double) DINOV2_RESIZE / DINOV2_CROP);
    }

    /**
     * Resizes and crops one image.
     *
     * @param img the decoded image, any size
     * @return the {@code crop × crop} image
     */
    public RgbImage apply(RgbImage img) {
        return centreCrop(Geometric.resizeShorterSide(img, resize), crop);
    }

    /**
     * torchvision's {@code CenterCrop(size)} of an image at least {@code size} on each side: {@code top =
     * int(round((h - size) / 2.0))} (Python rounds halves to even), {@code left} likewise.
     *
     * @param img the image
     * @param size the crop side
     * @return the crop (the image itself when it is already {@code size × size})
     */
    public static RgbImage centreCrop(RgbImage img, int size) {
        int w = img.width();
        int h = img.height();
        if (w < size || h < size) {
            throw new IllegalArgumentException("a " + w + "x" + h + " image has no " + size + "-px centre crop");
        }
        if (w == size && h == size) {
            return img;
        }
        int top = (int) Math.rint((h - size) / 2.0);
        int left = (int) Math.rint((w - size) / 2.0);
        float[] src = img.chw();
        float[] out = new float[3 * size * size];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < size; y++) {
                System.arraycopy(src, (c * h + top + y) * w + left, out, (c * size + y) * size, size);
            }
        }
        return new RgbImage(size, size, out);
    }

    /** @return a name for cache keys and logs, e.g. {@code resize256-crop224} */
    public String id() {
        return "resize" + resize + "-crop" + crop;
    }
}
