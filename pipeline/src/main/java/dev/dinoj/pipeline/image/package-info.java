/**
 * Reading image files into AWT images under guards: the format from the content's magic bytes
 * ({@link dev.dinoj.pipeline.image.ImageFormat}), width × height from the header before any pixel is decoded,
 * optional subsampling while decoding, and the EXIF orientation ({@link dev.dinoj.pipeline.image.ExifOrientation}).
 * Decoders come from ImageIO plus TwelveMonkeys (CMYK/YCCK JPEG, WebP). Conversion to RGB floats lives with
 * {@link dev.dinoj.pipeline.data.RgbImage}; ingestion ({@code ingest.Decoder}) and the datasets
 * ({@code data.PixelGuard}) build on this package.
 */
package dev.dinoj.pipeline.image;
