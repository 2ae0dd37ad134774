package dev.dinoj.actors.curate;

import dev.dinoj.actors.ClusterMessage;

/**
 * The curation that precedes training, as the run's status shows it.
 *
 * @param phase          none, listing, ingesting (the workers' partitions), merging (global stages), done, failed
 * @param source         the pool
 * @param dataset        the curated dataset the run trains on
 * @param objectsDone    pool objects ingested so far
 * @param objectsTotal   pool objects listed
 * @param partitionsDone partitions whose result is in place
 * @param partitions     partitions of the pool
 * @param partitionNodes the node that ingested each partition ("" while open)
 * @param ingestingOn    the node ingesting each partition now ("" if none)
 * @param workers        curation workers registered
 * @param message        the last event (a reassigned or failed partition)
 * @param seconds        time since the curation started
 */
public record CurationView(
        String phase,
        String source,
        String dataset,
        long objectsDone,
        long objectsTotal,
        int partitionsDone,
        int partitions,
        String[] partitionNodes,
        String[] ingestingOn,
        int workers,
        String message,
        double seconds)
        implements ClusterMessage {
    public static CurationView none() {
        return new CurationView("none", "", "", 0, 0, 0, 0, new String[0], new String[0], 0, "", 0);
    }
}
