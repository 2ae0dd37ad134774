package dev.dinoj.trainer.collective;

/**
 * A collective could not complete: ranks disagree on what they are doing (different collective, length or step),
 * the transport failed, or the communicator already failed earlier. After any {@code CollectiveException} the
 * communicator is unusable; the group must be re-formed (a new {@link World} generation).
 */
public class CollectiveException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public CollectiveException(String message) {
        super(message);
    }

    public CollectiveException(String message, Throwable cause) {
        super(message, cause);
    }
}
