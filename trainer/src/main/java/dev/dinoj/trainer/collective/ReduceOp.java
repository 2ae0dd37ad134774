package dev.dinoj.trainer.collective;

/** Element-wise reduction of the small all-reduce. */
public enum ReduceOp {
    SUM,
    MAX,
    MIN;

    double apply(double a, double b) {
        switch (this) {
            case SUM:
                return a + b;
            case MAX:
                return Math.max(a, b);
            default:
                return Math.min(a, b);
        }
    }
}
