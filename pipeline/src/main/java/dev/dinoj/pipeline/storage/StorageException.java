package dev.dinoj.pipeline.storage;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * A storage operation failed. {@link Kind} says whether trying again later can help: S3 requests have already been
 * retried by Alpakka S3 ({@code dinoj.storage.retry}) when one comes back transient.
 *
 * <p>The message names the location and the operation, never a credential.
 */
public final class StorageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What went wrong, as far as a retry is concerned. */
    public enum Kind {
        /** The object or bucket does not exist (S3 404). Not retried. */
        NOT_FOUND,
        /** The object is larger than the caller allowed. Not retried. */
        TOO_LARGE,
        /** Refused: credentials, permissions, a bad request (S3 4xx). Not retried. */
        PERMANENT,
        /**
         * Network trouble, timeouts, throttling, server errors (S3 5xx, 408, 429): what was left after Alpakka S3's
         * retries (connection failures and 5xx are retried with backoff; 408, 429 and a download cut after its response
         * began are not).
         */
        TRANSIENT
    }

    private final Kind kind;

    public StorageException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public StorageException(Kind kind, String message) {
        this(kind, message, null);
    }

    public Kind kind() {
        return kind;
    }

    /** True when a retry may succeed. */
    public boolean isTransient() {
        return kind == Kind.TRANSIENT;
    }

    /** Strips the {@code CompletionException}/{@code ExecutionException} wrappers of a future's failure. */
    public static Throwable unwrap(Throwable t) {
        Throwable c = t;
        while ((c instanceof CompletionException || c instanceof ExecutionException) && c.getCause() != null) {
            c = c.getCause();
        }
        return c;
    }
}
