package dev.dinoj.trainer.checkpoint;

/** A checkpoint that cannot be written or used; the message names the directory or file and what to do. */
public final class CheckpointException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** What is wrong, without the advice that the message may add. */
    private final String problem;

    public CheckpointException(String message) {
        super(message);
        this.problem = message;
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
        this.problem = message;
    }

    private CheckpointException(String problem, String advice) {
        super(problem + "; " + advice);
        this.problem = problem;
    }

    /** A checkpoint directory that does not verify: {@code problem} says what, {@code advice} what to do. */
    static CheckpointException unverified(String problem, String advice) {
        return new CheckpointException(problem, advice);
    }

    /** What is wrong (the message without its advice): what a resume that falls back to an older checkpoint logs. */
    public String problem() {
        return problem;
    }
}
