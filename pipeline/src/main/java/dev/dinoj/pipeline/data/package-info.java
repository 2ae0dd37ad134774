/**
 * Image sources for pretraining and evaluation: a stable, indexable view of decoded RGB images.
 *
 * <p>{@link dev.dinoj.pipeline.data.ImageDataset} is the contract; {@link dev.dinoj.pipeline.data.IdxDataset}
 * reads MNIST-style IDX files (Fashion-MNIST), {@link dev.dinoj.pipeline.data.ImageFolderDataset} reads a
 * torchvision {@code ImageFolder}-style directory tree; {@link dev.dinoj.pipeline.data.PixelGuard} decodes folder and
 * curated images under the pixel guard (over it: skipped, the next image in its place). Every failure a user can fix (missing, truncated or
 * wrong file) is a {@link dev.dinoj.pipeline.data.DatasetException} whose message names the file, the
 * problem and the remedy.
 */
package dev.dinoj.pipeline.data;
