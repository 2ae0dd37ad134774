package dev.dinoj.trainer.collective;

import java.util.List;

/**
 * A peer stopped answering: a collective (or the rendezvous) made no progress for the configured timeout. Names the
 * ranks this rank was waiting for, so the coordinator can drop or replace them and re-form the world.
 */
public final class CollectiveTimeoutException extends CollectiveException {

    private static final long serialVersionUID = 1L;

    private final List<Integer> waitingFor;
    private final long elapsedMillis;

    public CollectiveTimeoutException(String message, List<Integer> waitingFor, long elapsedMillis) {
        super(message);
        this.waitingFor = List.copyOf(waitingFor);
        this.elapsedMillis = elapsedMillis;
    }

    /** Ranks whose data (or whose acceptance of our data) was missing. */
    public List<Integer> waitingFor() {
        return waitingFor;
    }

    /** Time without progress before giving up. */
    public long elapsedMillis() {
        return elapsedMillis;
    }
}
