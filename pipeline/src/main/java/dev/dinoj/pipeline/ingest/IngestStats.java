package dev.dinoj.pipeline.ingest;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/** Counters of one ingestion run, updated by the stream and read by progress reporters. Thread-safe. */
public final class IngestStats {
    private final long startNanos = System.nanoTime();
    final AtomicLong listed = new AtomicLong();
    final AtomicLong resumed = new AtomicLong();
    final AtomicLong downloaded = new AtomicLong();
    final AtomicLong bytes = new AtomicLong();
    final AtomicLong embedded = new AtomicLong();
    final AtomicLong archives = new AtomicLong();
    private final AtomicLongArray states = new AtomicLongArray(ObjectState.values().length);

    void count(ObjectState s) {
        states.incrementAndGet(s.ordinal());
    }

    /** An immutable copy of the counters. */
    public Snapshot snapshot() {
        Map<ObjectState, Long> m = new EnumMap<>(ObjectState.class);
        for (ObjectState s : ObjectState.values()) {
            m.put(s, states.get(s.ordinal()));
        }
        return new Snapshot(
                listed.get(),
                resumed.get(),
                downloaded.get(),
                bytes.get(),
                embedded.get(),
                archives.get(),
                m,
                (System.nanoTime() - startNanos) / 1e9);
    }

    /**
     * Counters at one moment.
     *
     * @param listed     objects the listing produced
     * @param resumed    objects skipped because an earlier run recorded them with the same ETag
     * @param downloaded objects read
     * @param bytes      bytes read
     * @param embedded   images embedded (distinct contents)
     * @param archives   archives expanded
     * @param states     entries recorded by this run, per state (archive members count, archive lines do not)
     * @param seconds    since the run started
     */
    public record Snapshot(
            long listed,
            long resumed,
            long downloaded,
            long bytes,
            long embedded,
            long archives,
            Map<ObjectState, Long> states,
            double seconds) {
        /** Entries recorded by this run. */
        public long recorded() {
            return states.values().stream().mapToLong(Long::longValue).sum();
        }

        /** Objects and archive members recorded per second. */
        public double rate() {
            return seconds <= 0 ? 0 : recorded() / seconds;
        }
    }
}
