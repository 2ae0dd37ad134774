package dev.dinoj.pipeline.data;

import java.nio.file.Path;

/**
 * A dataset cannot be read: the file is missing, truncated, of the wrong kind, or undecodable.
 *
 * <p>The message always names the offending file, says what is wrong and what to do about it, e.g.
 * {@code ".../train-images-idx3-ubyte.gz: truncated: header says 60000 images of 28x28 but only 1234 bytes
 * of pixel data; re-download or reinstall dataset-fashion-mnist"}.
 */
public final class DatasetException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message the complete, actionable message */
    public DatasetException(String message) {
        super(message);
    }

    /**
     * @param message the complete, actionable message
     * @param cause   the underlying failure
     */
    public DatasetException(String message, Throwable cause) {
        super(message, cause);
    }

    /** Builds {@code "<file>: <problem>; <remedy>"}. */
    static DatasetException of(Path file, String problem, String remedy) {
        return new DatasetException(file + ": " + problem + "; " + remedy);
    }

    /** Same as {@link #of(Path, String, String)} with a cause. */
    static DatasetException of(Path file, String problem, String remedy, Throwable cause) {
        return new DatasetException(file + ": " + problem + "; " + remedy, cause);
    }
}
