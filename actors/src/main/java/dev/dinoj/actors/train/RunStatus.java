package dev.dinoj.actors.train;

import dev.dinoj.actors.ClusterMessage;
import dev.dinoj.actors.curate.CurationView;

/**
 * What the coordinator reports about its run (management routes, {@code ./dinoj status}).
 *
 * @param phase           idle, curating, waiting, probing, forming, stepping, checkpointing, reforming, finished,
 *                        stopped, failed (the curation failed)
 * @param step            steps completed in the current world (the next step to run)
 * @param totalSteps      steps of the run
 * @param generation      generation of the current Aeron world
 * @param committedStep   step of the last committed checkpoint (-1: none)
 * @param checkpoint      directory of the last committed checkpoint ("" if none)
 * @param samplerPosition global data-stream position after the last completed step
 * @param lossNames       names of the logged losses of the last step
 * @param lossValues      their values
 * @param recentLosses    total loss of the last steps (oldest first)
 * @param workers         the workers of the current world, in rank order
 * @param message         the last failure or event, for people
 * @param restarts        world re-formations after failures
 * @param imagesSkipped   distinct images of the dataset skipped over the pixel guard ({@code dinoj.data.max-image-pixels})
 *                        in the run so far, each replaced by the next image within it
 * @param curation        the curation phase of a run that curates first (phase {@code none} otherwise)
 * @param config          the run's config (file or preset; "" = no run yet)
 * @param dir             the run's directory ("" = no run yet)
 * @param queue           submitted runs waiting for this one to end, in the order they will run
 */
public record RunStatus(
        String phase,
        long step,
        long totalSteps,
        int generation,
        long committedStep,
        String checkpoint,
        long samplerPosition,
        String[] lossNames,
        double[] lossValues,
        double[] recentLosses,
        WorkerView[] workers,
        String message,
        int restarts,
        int imagesSkipped,
        CurationView curation,
        String config,
        String dir,
        QueuedRun[] queue)
        implements ClusterMessage {

    /** This status with {@code runs} as the queue. */
    public RunStatus withQueue(QueuedRun[] runs) {
        return new RunStatus(
                phase,
                step,
                totalSteps,
                generation,
                committedStep,
                checkpoint,
                samplerPosition,
                lossNames,
                lossValues,
                recentLosses,
                workers,
                message,
                restarts,
                imagesSkipped,
                curation,
                config,
                dir,
                runs);
    }

    /** A submitted run waiting its turn: its config, run directory, steps (0 = the config's) and whether it curates. */
    public record QueuedRun(String config, String dir, long steps, boolean curates) implements ClusterMessage {}

    /** One worker of the world. */
    public record WorkerView(int rank, String node, String aeron) implements ClusterMessage {}
}
