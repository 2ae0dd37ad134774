package dev.dinoj.trainer.checkpoint;

/** A checkpoint that cannot be written or used; the message names the directory or file and what to do. */
public final class CheckpointException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
