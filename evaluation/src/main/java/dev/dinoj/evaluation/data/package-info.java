/**
 * Labelled evaluation sets from dataset specs ({@code fashion-mnist:train|test}, {@code idx:FILE}, {@code folder:DIR},
 * {@code curated:DIR|s3://…}): images with class labels and names, and a content fingerprint in their cache id.
 */
package dev.dinoj.evaluation.data;
