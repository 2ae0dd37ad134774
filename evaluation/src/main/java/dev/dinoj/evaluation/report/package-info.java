/**
 * The run report: an HTML page with XChart plots (losses, schedules, k-NN over training), the evaluation table,
 * the PCA-of-patch-features figure and nearest neighbours, written by {@link dev.dinoj.evaluation.report.Report}.
 */
package dev.dinoj.evaluation.report;
