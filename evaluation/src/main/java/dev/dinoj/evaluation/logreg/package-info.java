/**
 * Logistic regression on frozen features ({@code dinov2/eval/log_regression.py}): an L2-regularised multinomial
 * model fitted by L-BFGS in float64 for each C of {@code 10^linspace(−6, 5, 45)}, C chosen on 10 % of train, the
 * final model refitted on all of train and reported on test.
 */
package dev.dinoj.evaluation.logreg;
