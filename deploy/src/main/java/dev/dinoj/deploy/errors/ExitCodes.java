package dev.dinoj.deploy.errors;

import com.typesafe.config.ConfigException;
import dev.dinoj.pipeline.data.DatasetException;
import dev.dinoj.pipeline.storage.StorageException;
import dev.dinoj.trainer.checkpoint.CheckpointException;
import dev.dinoj.trainer.collective.CollectiveException;
import dev.dinoj.trainer.train.DivergenceException;
import java.io.IOException;
import java.io.UncheckedIOException;
import picocli.CommandLine;

/**
 * How every dinoj command line ends on an error: one line {@code error: …} and an exit code a script or an operator can
 * act on: {@value #USER_ERROR} for bad input (a {@link UserError}, a bad argument, a missing or corrupt file, dataset,
 * checkpoint or config, a storage request refused for good), {@value #DIVERGED} when training diverged (a
 * non-finite loss or gradient: change the config, retrying replays it), {@value #RETRY} for a failure worth retrying
 * as is (a storage request that kept failing transiently, a lost peer of the collectives). A JVM stopped by SIGTERM or
 * Ctrl-C exits with the signal's code (143, 130) after its shutdown hooks (a training run checkpoints first). Anything
 * else is a bug and keeps its stack trace.
 */
public final class ExitCodes {

    /** Exit code of an error the user can fix. */
    public static final int USER_ERROR = 2;

    /** Exit code of a run that diverged. */
    public static final int DIVERGED = 3;

    /** Exit code of a failure that trying again as is may fix. */
    public static final int RETRY = 4;

    private ExitCodes() {}

    /** Installs the handler on {@code cl} (the {@code dinoj} command line, or a node JVM's {@code node} command). */
    public static CommandLine withUserErrors(CommandLine cl) {
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            int code = codeOf(ex);
            if (code != 0) {
                cmd.getErr().println("error: " + ex.getMessage());
                return code;
            }
            throw ex;
        });
        return cl;
    }

    /** The exit code of {@code ex}, 0 when it is a bug (no code: the stack trace is kept). */
    static int codeOf(Exception ex) {
        for (Throwable t = ex; t != null; t = t.getCause()) {
            if (t instanceof DivergenceException) {
                return DIVERGED;
            }
        }
        if (ex instanceof CollectiveException || ex instanceof StorageException s && s.isTransient()) {
            return RETRY;
        }
        return isUserError(ex) ? USER_ERROR : 0;
    }

    static boolean isUserError(Exception ex) {
        return ex instanceof UserError
                || ex instanceof IllegalArgumentException
                || ex instanceof IOException
                || ex instanceof CheckpointException
                || ex instanceof DivergenceException
                || ex instanceof CollectiveException
                || ex instanceof StorageException
                || ex instanceof ConfigException
                || ex instanceof UncheckedIOException
                || ex instanceof DatasetException;
    }
}
