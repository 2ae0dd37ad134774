package dev.dinoj.trainer.collective;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A rank in a JVM of its own (for {@link CollectiveProcessTest}): checks an all-reduce, a reduce-scatter and an
 * all-gather, prints {@code READY}, then all-reduces until it fails; a {@link CollectiveTimeoutException} prints
 * {@code TYPED_ERROR …} and exits with 3, any other failure exits with 4.
 *
 * <p>Arguments: {@code RANK WORLD SETTINGS OWN_DRIVER ITERATIONS} (ITERATIONS 0 = until failure).
 */
public final class CollectiveRankMain {

    private CollectiveRankMain() {}

    public static void main(String[] args) {
        int rank = Integer.parseInt(args[0]);
        World world = World.fromEnvironment(args[1], 0);
        CollectiveSettings settings = CollectiveSettings.decode(args[2]);
        boolean ownDriver = Boolean.parseBoolean(args[3]);
        long iterations = Long.parseLong(args[4]);
        EmbeddedDriver driver =
                ownDriver ? EmbeddedDriver.launch(world.member(rank).driverDir(), settings) : null;
        int code = 0;
        long lastProgress = System.nanoTime();
        try (Communicator c = Communicator.join(world, rank, settings)) {
            int n = c.size();
            int count = 1 << 20;
            ByteBuffer v = ByteBuffer.allocateDirect(count * 4).order(ByteOrder.nativeOrder());
            for (int i = 0; i < count; i++) {
                v.putFloat(i * 4, rank + i % 3);
            }
            c.allReduce(v, count);
            for (int i = 0; i < count; i++) {
                float want = n * (n - 1) / 2f + n * (i % 3);
                if (v.getFloat(i * 4) != want) {
                    throw new IllegalStateException(
                            "all-reduce element " + i + " = " + v.getFloat(i * 4) + ", want " + want);
                }
            }
            Partition p = Partition.even(count, n);
            for (int i = 0; i < count; i++) {
                v.putFloat(i * 4, 1f);
            }
            c.reduceScatter(v, p, WireFormat.F32);
            for (int i = p.offset(rank); i < p.end(rank); i++) {
                if (v.getFloat(i * 4) != n) {
                    throw new IllegalStateException("reduce-scatter element " + i + " = " + v.getFloat(i * 4));
                }
            }
            c.allGather(v, p, WireFormat.F32);
            for (int i = 0; i < count; i++) {
                if (v.getFloat(i * 4) != n) {
                    throw new IllegalStateException("all-gather element " + i + " = " + v.getFloat(i * 4));
                }
            }
            System.out.println("READY " + rank);
            System.out.flush();
            for (long it = 0; iterations == 0 || it < iterations; it++) {
                c.setStep(it);
                c.allReduce(v, count);
                lastProgress = System.nanoTime();
            }
            c.barrier();
            System.out.println("DONE " + rank);
        } catch (CollectiveTimeoutException e) {
            System.out.println(
                    "TYPED_ERROR CollectiveTimeoutException after " + (System.nanoTime() - lastProgress) / 1_000_000
                            + " ms waiting for " + e.waitingFor() + ": " + e.getMessage());
            code = 3;
        } catch (RuntimeException e) {
            System.out.println("FAILED " + e);
            e.printStackTrace(System.out);
            code = 4;
        } finally {
            if (driver != null) {
                driver.close();
            }
        }
        System.out.flush();
        Runtime.getRuntime().halt(code);
    }
}
