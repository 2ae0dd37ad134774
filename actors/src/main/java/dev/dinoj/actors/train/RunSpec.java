package dev.dinoj.actors.train;

import com.typesafe.config.Config;
import dev.dinoj.actors.curate.CurateSpec;
import dev.dinoj.trainer.config.ConfigError;
import dev.dinoj.trainer.config.TrainSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The coordinator's settings ({@code dinoj.actors.coordinator}): the run it owns and how it reacts to failures.
 *
 * @param config          HOCON file or preset of the run ("" = no run)
 * @param sets            {@code key=value} overrides
 * @param runDir          run directory (checkpoints, audit, run state), shared by every coordinator-role node
 * @param steps           steps to train (0 = the config's)
 * @param checkpointEvery checkpoint cadence in steps (0 = the config's)
 * @param curate          the curation that comes first (null = none): the run then trains on its output
 * @param maxStepRetries  worlds a step may fail on (re-formed after each) before the run ends as failed
 * @param maxWorkers      most ranks of a world (0 = as many as divide the batch); workers that join a running world
 *                        are taken in at the next checkpoint up to this
 */
public record RunSpec(
        String config,
        List<String> sets,
        Path runDir,
        long steps,
        int checkpointEvery,
        int minWorkers,
        Duration probeTimeout,
        Duration stepTimeout,
        Duration reformDelay,
        Duration stepPause,
        CurateSpec curate,
        int maxStepRetries,
        int maxWorkers) {

    /** Most steps a run may ask for (about 10^12; the bound of every step count of a training config). */
    public static final long MAX_STEPS = 1L << 40;

    public RunSpec {
        if (minWorkers < 1) {
            throw new IllegalArgumentException("dinoj.actors.coordinator.min-workers must be >= 1: " + minWorkers);
        }
        if (maxWorkers < 0) {
            throw new IllegalArgumentException("dinoj.actors.coordinator.max-workers must be >= 0: " + maxWorkers);
        }
        if (maxStepRetries < 1) {
            throw new IllegalArgumentException(
                    "dinoj.actors.coordinator.max-step-retries must be >= 1: " + maxStepRetries);
        }
        if (!config.isEmpty() && runDir == null) {
            throw new IllegalArgumentException("dinoj.actors.coordinator.run.dir is empty: set the run directory "
                    + "(shared by all coordinator nodes) for run " + config);
        }
    }

    public static RunSpec fromConfig(Config root) {
        Config c = root.getConfig("dinoj.actors.coordinator");
        String dir = c.getString("run.dir");
        return new RunSpec(
                c.getString("run.config"),
                c.getStringList("run.set"),
                dir.isEmpty() ? null : Path.of(dir),
                c.getLong("run.steps"),
                c.getInt("run.checkpoint-every"),
                c.getInt("min-workers"),
                c.getDuration("probe-timeout"),
                c.getDuration("step-timeout"),
                c.getDuration("reform-delay"),
                c.getDuration("step-pause"),
                CurateSpec.fromConfig(c.getConfig("run")),
                c.getInt("max-step-retries"),
                c.getInt("max-workers"));
    }

    public boolean hasRun() {
        return !config.isEmpty();
    }

    /** Another run ({@code config} … {@code curate}) under this spec's coordinator settings (workers, timeouts). */
    public RunSpec forRun(
            String config, List<String> sets, Path runDir, long steps, int checkpointEvery, CurateSpec curate) {
        return new RunSpec(
                config,
                sets,
                runDir,
                steps,
                checkpointEvery,
                minWorkers,
                probeTimeout,
                stepTimeout,
                reformDelay,
                stepPause,
                curate,
                maxStepRetries,
                maxWorkers);
    }

    /** Steps to train: {@link #steps()}, or the config's when 0. */
    public long totalSteps(TrainSettings settings) {
        return steps > 0 ? steps : settings.totalSteps();
    }

    /** Checkpoint cadence in steps: {@link #checkpointEvery()}, or the config's when 0. */
    public int checkpointEvery(TrainSettings settings) {
        return checkpointEvery > 0 ? checkpointEvery : settings.checkpoint().everySteps();
    }

    /**
     * The train settings of a run the node config fixes (the operator's files); a curating run's {@code data.dataset}
     * is its curated set. A submitted run is loaded by {@link SubmissionRules#load}.
     */
    public TrainSettings load() {
        return checkTeacher(TrainSettings.load(config, effectiveSets()));
    }

    /** {@code s}, once its distillation teacher and pretrained weights (if any) are found on this node. */
    TrainSettings checkTeacher(TrainSettings s) {
        Path teacher = s.distill().teacher();
        if (teacher != null && !Files.exists(teacher)) {
            throw new ConfigError(
                    "dinoj.distill.teacher = " + teacher + ": not found on the coordinator's node; every "
                            + "trainer node reads the teacher, so give a path on storage all nodes share (e.g. the runs volume)");
        }
        Path pretrained = s.pretrainedWeights();
        if (pretrained != null && !Files.isRegularFile(pretrained)) {
            throw new ConfigError("dinoj.model.pretrained-weights = " + pretrained + ": not found on the coordinator's "
                    + "node; every trainer node reads the weights, so give a path on storage all nodes share (e.g. the "
                    + "runs volume)");
        }
        return s;
    }

    /** {@code sets}, plus {@code data.dataset = curated:OUT} when the run curates first. */
    public List<String> effectiveSets() {
        if (curate == null) {
            return sets;
        }
        List<String> all = new ArrayList<>(sets);
        all.add("data.dataset=\"" + curate.dataset().replace("\\", "\\\\").replace("\"", "\\\"") + "\"");
        return all;
    }
}
