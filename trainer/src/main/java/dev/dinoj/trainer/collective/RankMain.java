package dev.dinoj.trainer.collective;

import java.util.function.ToIntFunction;

/**
 * The life of a rank JVM ({@code train --ranks N}, {@code bench train-step --ranks N}, the tests' rank processes):
 * its own media driver when the world talks UDP, the communicator, the rank's work, one last line for the launcher
 * ({@code DONE RANK STATS} or {@code FAILED …} with the stack trace) and a halt with the exit code — a halt, because
 * a rank must not wait for non-daemon threads of native libraries once its work is over.
 */
public final class RankMain {

    /** The work of a rank, given its joined communicator. */
    public interface Body {
        void run(Communicator comm) throws Exception;
    }

    private RankMain() {}

    /**
     * Runs {@code body} as rank {@code rank} of {@code world} and halts the JVM: exit 0 after it returns, else
     * {@code failureCode} of what it threw.
     *
     * @param ownDriver launch this rank's embedded media driver (UDP worlds) and close it at the end
     */
    public static void runAndHalt(
            World world,
            int rank,
            CollectiveSettings settings,
            boolean ownDriver,
            Body body,
            ToIntFunction<Throwable> failureCode) {
        int code = 0;
        EmbeddedDriver driver = null;
        try {
            if (ownDriver) {
                driver = EmbeddedDriver.launch(world.member(rank).driverDir(), settings);
            }
            try (Communicator comm = Communicator.join(world, rank, settings)) {
                body.run(comm);
                System.out.println("DONE " + rank + " " + comm.stats());
            }
        } catch (Throwable t) {
            code = failureCode.applyAsInt(t);
            System.out.println("FAILED " + t);
            t.printStackTrace(System.out);
        } finally {
            if (driver != null) {
                driver.close();
            }
        }
        System.out.flush();
        Runtime.getRuntime().halt(code);
    }
}
