/** Frozen-backbone feature extraction for the evaluation protocols. */
package dev.dinoj.evaluation.features;
