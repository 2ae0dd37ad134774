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
 * How every dinoj command line ends on an error: bad input (a {@link UserError}, a bad argument, a missing or corrupt
 * file, dataset, checkpoint or config, a storage failure, a divergence, a lost peer) is printed as one line
 * {@code error: …} with exit code 2; anything else is a bug and keeps its stack trace.
 */
public final class ExitCodes {

    /** Exit code of an error the user can fix. */
    public static final int USER_ERROR = 2;

    private ExitCodes() {}

    /** Installs the handler on {@code cl} (the {@code dinoj} command line, or a node JVM's {@code node} command). */
    public static CommandLine withUserErrors(CommandLine cl) {
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (isUserError(ex)) {
                cmd.getErr().println("error: " + ex.getMessage());
                return USER_ERROR;
            }
            throw ex;
        });
        return cl;
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
