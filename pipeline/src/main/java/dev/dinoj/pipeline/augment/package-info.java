/**
 * DINOv2 multi-crop augmentation (dinov2 {@code data/augmentations.py} {@code DataAugmentationDINO}) in pure
 * Java, following torchvision's semantics for PIL images: {@code RandomResizedCrop} (bicubic),
 * {@code RandomHorizontalFlip}, {@code ColorJitter} in a random order, {@code RandomGrayscale},
 * {@code GaussianBlur}, {@code RandomSolarize}, then {@code ToTensor} + {@code Normalize}.
 *
 * <p>Entry points: {@link dev.dinoj.pipeline.augment.MultiCropConfig} (the recipe, with the official values)
 * and {@link dev.dinoj.pipeline.augment.MultiCropAugmentation} (image + random stream → crops). Everything is
 * deterministic given the random generator passed in (a {@link java.util.SplittableRandom} in the loader; only
 * {@code nextDouble()} and {@code nextInt(bound)} are called). Pixel values stay float in [0, 1]
 * between operations (clamped where PIL's uint8 would saturate) instead of being rounded to 8 bits.
 */
package dev.dinoj.pipeline.augment;
