package dev.dinoj.deploy.errors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.pipeline.storage.StorageException;
import dev.dinoj.trainer.collective.CollectiveException;
import dev.dinoj.trainer.train.DivergenceException;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Exit codes an operator can act on: 2 fix the input, 3 diverged, 4 retry as is; a bug keeps its stack trace. */
class ExitCodesTest {

    @Command(name = "fails")
    static final class Fails implements Callable<Integer> {
        final RuntimeException e;

        Fails(RuntimeException e) {
            this.e = e;
        }

        @Override
        public Integer call() {
            throw e;
        }
    }

    static int run(RuntimeException e, StringBuilder err) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CommandLine cl = ExitCodes.withUserErrors(new CommandLine(new Fails(e)));
        cl.setErr(new PrintWriter(bytes, true, StandardCharsets.UTF_8));
        int code = cl.execute();
        err.append(bytes.toString(StandardCharsets.UTF_8));
        return code;
    }

    @Test
    void shouldTellFixRetryAndDivergedApart() {
        StringBuilder err = new StringBuilder();
        assertEquals(2, run(new UserError("--source x: not a directory"), err));
        assertEquals("error: --source x: not a directory", err.toString().strip());
        assertEquals(2, run(new StorageException(StorageException.Kind.NOT_FOUND, "s3://b/k: no such key"), err));
        assertEquals(4, run(new StorageException(StorageException.Kind.TRANSIENT, "s3://b/k: 503 after 5 tries"), err));
        assertEquals(4, run(new CollectiveException("rank 1 sent nothing for 60 s"), err));
        assertEquals(3, run(new DivergenceException(7, "total loss is NaN"), err));
        assertEquals(
                3, run(new IllegalStateException("step failed", new DivergenceException(7, "grad norm inf")), err));
        assertTrue(err.toString().lines().allMatch(l -> l.startsWith("error: ")), err.toString());
        StringBuilder bug = new StringBuilder();
        assertEquals(1, run(new NullPointerException("a bug"), bug), "a bug: picocli's own code");
        assertTrue(bug.toString().contains("java.lang.NullPointerException: a bug\n\tat "), "with its stack trace");
    }
}
