package dev.dinoj.actors.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.Config;
import dev.dinoj.actors.curate.CurateSpec;
import dev.dinoj.pipeline.storage.StorageUri;
import dev.dinoj.trainer.config.ConfigError;
import dev.dinoj.trainer.config.ConfigLayers;
import dev.dinoj.trainer.config.TrainSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.List;

/**
 * What a submitted run ({@code POST /training/submit}, {@link Coordinator.Submit}) may name. Its {@code config} is a
 * preset or a HOCON file below {@code dinoj.actors.coordinator.config-roots}, read as data
 * ({@link TrainSettings#loadSubmitted}: no includes, no environment); its run directory lies below
 * {@code run-roots}, can be written, holds no run that has ended and does not overlap the state folder; its steps are bounded; the other paths it names
 * ({@code distill.teacher}, {@code model.pretrained-weights}, a {@code vit:} embedder, a local curation source or
 * queries, a local {@code curated:} exclusion set) lie below one of the roots, its exclusion sets are curated sets or
 * Fashion-MNIST,
 * and a local curation {@code out} below {@code run-roots}. A refusal is one line naming the key; it never shows a
 * file's text, and a path outside the roots gets the same answer whether it exists or not. A run the node config fixes
 * is the operator's and is not checked here.
 */
final class SubmissionRules {

    static final String CONFIG_ROOTS = "dinoj.actors.coordinator.config-roots";
    static final String RUN_ROOTS = "dinoj.actors.coordinator.run-roots";
    private static final List<String> ENDED = List.of("finished", "stopped", "failed");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Roots configRoots;
    private final Roots runRoots;
    /** Where a submission may read from: either list. */
    private final Roots readable;
    /** The coordinator's state folder (null: none), which no run directory may overlap. */
    private final Path stateDir;

    SubmissionRules(Roots configRoots, Roots runRoots, Path stateDir) {
        this.configRoots = configRoots;
        this.runRoots = runRoots;
        this.readable = configRoots.or(runRoots);
        this.stateDir = stateDir == null ? null : Roots.real(stateDir);
    }

    static SubmissionRules fromConfig(Config node) {
        Config c = node.getConfig("dinoj.actors.coordinator");
        return new SubmissionRules(
                Roots.of(CONFIG_ROOTS, c.getStringList("config-roots")),
                Roots.of(RUN_ROOTS, c.getStringList("run-roots")),
                SubmittedRuns.stateDir(node));
    }

    /**
     * Checks a new submission before it is accepted or queued: steps, the run directory, the curation's paths.
     *
     * @throws IllegalArgumentException one line naming what is wrong
     */
    void checkNew(RunSpec run) {
        if (run.steps() < 0 || run.steps() > RunSpec.MAX_STEPS) {
            throw new IllegalArgumentException(
                    "steps = " + run.steps() + " must be in [0, " + RunSpec.MAX_STEPS + "] (0 = the config's)");
        }
        if (run.checkpointEvery() < 0) {
            throw new IllegalArgumentException(
                    "checkpoint_every = " + run.checkpointEvery() + " must be >= 0 (0 = the config's)");
        }
        checkRunDir(run.runDir());
        CurateSpec c = run.curate();
        if (c != null) {
            local("curate.out", c.out(), runRoots);
            local("curate.source", c.source(), readable);
            if (!c.queries().isEmpty()) {
                local("curate.queries", c.queries(), readable);
            }
            vit("curate.embedder", c.embedder());
            vit("curate.copy-embedder", c.copyEmbedder());
            for (String set : c.exclude()) {
                excluded(set);
            }
        }
    }

    /**
     * The settings of a submitted run, at submit and again when it starts (the roots or the file may have changed
     * while it waited).
     *
     * @throws IllegalArgumentException one line naming what is wrong
     */
    TrainSettings load(RunSpec run) {
        TrainSettings s = TrainSettings.loadSubmitted(configFile(run.config()), run.effectiveSets());
        Path teacher = s.distill().teacher();
        if (teacher != null && !readable.contain(teacher)) {
            throw new ConfigError("dinoj.distill.teacher = " + teacher + ": a submitted run's teacher must be below "
                    + readable + " (give a checkpoint of an earlier run)");
        }
        Path pretrained = s.pretrainedWeights();
        if (pretrained != null && !readable.contain(pretrained)) {
            throw new ConfigError("dinoj.model.pretrained-weights = " + pretrained
                    + ": a submitted run's weights must be below " + readable);
        }
        return run.checkTeacher(s);
    }

    /** A preset as it is, or the real path of a file below the config roots. */
    private String configFile(String config) {
        if (ConfigLayers.isPreset(config)) {
            return config;
        }
        Path real;
        try {
            real = Roots.real(Path.of(config));
        } catch (InvalidPathException e) {
            real = null;
        }
        if (real == null || !configRoots.contain(real)) {
            throw new ConfigError("config " + config + ": not a preset " + ConfigLayers.PRESETS
                    + " and not a file below " + configRoots + "; a submitted run reads no other file");
        }
        return real.toString();
    }

    private void checkRunDir(Path dir) {
        if (!runRoots.contain(dir)) {
            throw new IllegalArgumentException(
                    "dir " + dir + ": a submitted run's directory must be below " + runRoots);
        }
        Path real = Roots.real(dir);
        if (stateDir != null && (real.startsWith(stateDir) || stateDir.startsWith(real))) {
            throw new IllegalArgumentException(
                    "dir " + dir + ": overlaps the coordinator's dinoj.actors.coordinator.state-dir");
        }
        Path existing = real;
        while (!Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (!Files.isDirectory(existing) || !Files.isWritable(existing)) {
            throw new IllegalArgumentException("dir " + dir + ": this node cannot write it (" + existing + " is "
                    + (Files.isDirectory(existing) ? "not writable" : "not a directory") + ")");
        }
        String ended = endedPhase(real);
        if (!ended.isEmpty()) {
            throw new IllegalArgumentException("dir " + dir + " holds a run that has ended (" + ended + "); a run "
                    + "directory holds one run: give a new one");
        }
    }

    /** The end recorded in {@code runDir}'s run state (finished, stopped, failed), or "" while none is. */
    private static String endedPhase(Path runDir) {
        Path f = runDir.resolve(RunStore.STATE_FILE);
        if (!Files.isRegularFile(f)) {
            return "";
        }
        try {
            String phase = JSON.readTree(f.toFile()).path("phase").asText("");
            return ENDED.contains(phase) ? phase : "";
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "dir " + runDir + ": its " + RunStore.STATE_FILE + " cannot be read; give a new run directory");
        }
    }

    /** A local path (file: URI or plain path) of {@code key} must be below {@code roots}; s3:// is not a node's. */
    private static void local(String key, String uri, Roots roots) {
        StorageUri u = StorageUri.parse(uri);
        if (u.scheme().equals(StorageUri.FILE) && !roots.contain(Path.of(u.path()))) {
            throw new IllegalArgumentException(key + " = " + uri + ": a local path must be below " + roots);
        }
    }

    /**
     * An exclusion set of a submission is a curated set ({@code curated:s3://…}, or {@code curated:DIR} below the
     * roots) or the node's Fashion-MNIST; {@code idx:} and {@code folder:} would make the coordinator read files of
     * the submitter's choosing.
     */
    private void excluded(String set) {
        String key = "curate.exclude " + set;
        if (set.startsWith("fashion-mnist:")) {
            return;
        }
        if (!set.startsWith("curated:")) {
            throw new IllegalArgumentException(key + ": a submitted run may exclude curated:s3://bucket/prefix, "
                    + "curated:DIR below " + readable + " or fashion-mnist:train|test");
        }
        String loc = set.substring("curated:".length());
        StorageUri u = StorageUri.parse(loc);
        if (u.scheme().equals(StorageUri.FILE) && !readable.contain(Path.of(u.path()))) {
            throw new IllegalArgumentException(key + ": a local curated set must be below " + readable);
        }
    }

    /** The checkpoint or weights of a {@code vit:} embedder must be below the roots. */
    private void vit(String key, String embedder) {
        if (embedder.startsWith("vit:") && !readable.contain(Path.of(embedder.substring(4)))) {
            throw new IllegalArgumentException(key + " = " + embedder
                    + ": the checkpoint or weights of a submitted run must be below " + readable);
        }
    }
}
