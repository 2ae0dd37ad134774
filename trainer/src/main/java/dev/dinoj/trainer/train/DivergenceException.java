package dev.dinoj.trainer.train;

/**
 * A loss or gradient became NaN or infinite. Training stops before the optimiser step, so parameters and the last
 * checkpoint stay as they were.
 */
public final class DivergenceException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final long step;

    public DivergenceException(long step, String what) {
        super("training diverged at step " + step + ": " + what + ". The parameters were not updated and the last "
                + "checkpoint is intact; resume from it with a lower optim.base-lr, a smaller optim.clip-grad or a "
                + "longer warmup");
        this.step = step;
    }

    public long step() {
        return step;
    }
}
