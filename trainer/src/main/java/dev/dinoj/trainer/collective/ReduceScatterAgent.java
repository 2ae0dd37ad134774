package dev.dinoj.trainer.collective;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.agrona.concurrent.Agent;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.AgentTerminationException;
import org.agrona.concurrent.SleepingIdleStrategy;

/**
 * Reduce-scatters the buckets of a vector on a thread of its own, in launch order, while another thread (the step
 * thread) goes on: an Agrona {@link Agent} for an {@link AgentRunner} ({@link #newRunner}). The step thread
 * {@link #launch()}es bucket after bucket (bucket {@code j} of a step is the {@code j}-th launch, modulo the bucket
 * count) and {@link #awaitCompleted(long) waits} for the last; each {@link #doWork()} runs one launched bucket's
 * reduce-scatter through the communicator's duty cycle.
 *
 * <p><b>Threads.</b> A communicator is driven by one thread at a time: the agent uses it only between a launch and
 * that bucket's completion, and the caller must not use it in between. The hand-over is through the volatile
 * launched / completed counters, which order the communicator's plain fields between the two threads. Between
 * buckets the runner parks ({@link SleepingIdleStrategy}, woken at once by a launch), so an idle agent takes no core.
 * A failure stops the agent and is rethrown to the waiting thread as {@link CollectiveException}.
 */
public final class ReduceScatterAgent implements Agent {

    /** Longest park of an idle agent (a launch wakes it at once; this bounds how long a close waits). */
    private static final long IDLE_PARK_NS = TimeUnit.MILLISECONDS.toNanos(1);
    /** How often a waiting thread checks for a failure of the agent. */
    private static final long AWAIT_PARK_NS = TimeUnit.MICROSECONDS.toNanos(200);

    private final Communicator comm;
    private final ByteBuffer[] buckets;
    private final Partition[] partitions;
    private final WireFormat wire;
    private final String roleName;

    private long done; // agent thread only
    private volatile long launched; // written by the launching thread only
    private volatile long completed;
    private volatile long busyNanos; // written by the agent thread only
    private volatile Throwable error;
    private volatile boolean closed;
    private volatile Thread agentThread;
    private volatile Thread waiter;

    /**
     * @param comm       the communicator the reduce-scatters run on
     * @param buckets    bucket {@code j}'s elements of the vector (direct, native order)
     * @param partitions bucket {@code j}'s partition (the rank shards clipped to it)
     * @param wire       wire format of the reduce-scatters
     */
    public ReduceScatterAgent(Communicator comm, ByteBuffer[] buckets, Partition[] partitions, WireFormat wire) {
        if (buckets.length == 0 || buckets.length != partitions.length) {
            throw new IllegalArgumentException(buckets.length + " buckets for " + partitions.length + " partitions");
        }
        this.comm = comm;
        this.buckets = buckets.clone();
        this.partitions = partitions.clone();
        this.wire = wire;
        this.roleName = "dinoj-comm-rank" + comm.rank();
    }

    /**
     * A runner for {@code agent} on a daemon thread named after its role, started; close it to stop the agent (the
     * close waits for a reduce-scatter in flight, which completes or times out).
     */
    public static AgentRunner newRunner(ReduceScatterAgent agent) {
        AgentRunner runner = new AgentRunner(new SleepingIdleStrategy(IDLE_PARK_NS), agent::onError, null, agent);
        AgentRunner.startOnThread(runner, r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        });
        return runner;
    }

    @Override
    public String roleName() {
        return roleName;
    }

    @Override
    public void onStart() {
        agentThread = Thread.currentThread();
    }

    /** Reduce-scatters the next launched bucket, if any: 1 when it did, 0 when there was none. */
    @Override
    public int doWork() {
        if (done >= launched) {
            return 0;
        }
        int j = (int) (done % buckets.length);
        long t0 = System.nanoTime();
        try {
            comm.reduceScatter(buckets[j], partitions[j], wire);
        } catch (Throwable t) {
            onError(t);
            throw new AgentTerminationException(t); // the communicator refuses further work anyway
        }
        busyNanos += System.nanoTime() - t0; // single writer
        done++;
        completed = done;
        unpark(waiter);
        return 1;
    }

    @Override
    public void onClose() {
        closed = true;
        unpark(waiter);
    }

    /** Records the first failure (the runner's error handler). */
    void onError(Throwable t) {
        if (error == null && !(t instanceof AgentTerminationException)) {
            error = t;
        }
        unpark(waiter);
    }

    /** Launches the next bucket (from one thread: the step thread). */
    public void launch() {
        launched = launched + 1; // single writer; publishes the bucket's data
        unpark(agentThread);
    }

    /** Buckets launched so far. */
    public long launched() {
        return launched;
    }

    /** Buckets reduce-scattered so far. */
    public long completed() {
        return completed;
    }

    /**
     * Time spent inside reduce-scatters so far (ns): the communication that overlapped the caller's work, plus the
     * part it waited for. Exact after {@link #awaitCompleted(long)}.
     */
    public long busyNanos() {
        return busyNanos;
    }

    /**
     * Parks until {@code target} buckets are reduce-scattered.
     *
     * @throws CollectiveException if the agent failed or stopped first
     */
    public void awaitCompleted(long target) {
        waiter = Thread.currentThread();
        try {
            while (completed < target) {
                Throwable t = error;
                if (t != null) {
                    throw t instanceof CollectiveException ce
                            ? new CollectiveException(ce.getMessage(), ce)
                            : new CollectiveException(
                                    "rank " + comm.rank() + ": the communication thread failed: " + t, t);
                }
                if (closed) {
                    throw new CollectiveException("rank " + comm.rank() + ": the communication thread is gone");
                }
                LockSupport.parkNanos(this, AWAIT_PARK_NS);
            }
        } finally {
            waiter = null;
        }
    }

    private static void unpark(Thread thread) {
        if (thread != null) {
            LockSupport.unpark(thread);
        }
    }
}
