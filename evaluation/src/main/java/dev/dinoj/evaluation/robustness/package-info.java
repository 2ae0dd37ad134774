/**
 * Robustness: k-NN and linear accuracy of classifiers fitted on clean features, scored on corrupted test sets
 * (Gaussian noise, Gaussian blur, contrast, JPEG) at five severities, in the spirit of ImageNet-C.
 */
package dev.dinoj.evaluation.robustness;
