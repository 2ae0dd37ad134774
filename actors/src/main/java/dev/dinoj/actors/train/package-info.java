/**
 * Training on the cluster. The {@link dev.dinoj.actors.train.Coordinator} (cluster singleton) owns the
 * {@link dev.dinoj.actors.train.RunQueue} and drives each run through a {@link dev.dinoj.actors.train.RunDriver}
 * child, one behaviour per phase ({@code Curating}, {@code Waiting}, {@code Probing}, {@code Forming},
 * {@code Stepping}, {@code Checkpointing}, {@code Finishing}) over plain state ({@code RunProgress},
 * {@code WorkerRoster}) and the run directory's files ({@code RunStore}, off the actor thread). The
 * {@link dev.dinoj.actors.train.TrainerWorker} of each worker JVM runs the steps with its plain
 * {@link dev.dinoj.actors.train.WorkerEngine}. What a submitted run may name (config, run directory, other paths,
 * sizes) is checked by {@code SubmissionRules} against the node's {@code config-roots} and {@code run-roots}.
 */
package dev.dinoj.actors.train;
