/**
 * Deterministic image transforms (crop, resize, flip, brightness, contrast, noise, blur, JPEG) and dataset views
 * for the copy-detection and robustness protocols.
 */
package dev.dinoj.evaluation.transform;
