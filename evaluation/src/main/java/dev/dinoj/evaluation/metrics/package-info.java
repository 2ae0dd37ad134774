/** Accuracy metrics shared by the classification protocols, and the Jackson helpers of their one-line JSON results. */
package dev.dinoj.evaluation.metrics;
