/** Accuracy metrics shared by the classification protocols, and JSON helpers for their one-line results. */
package dev.dinoj.evaluation.metrics;
