package dev.dinoj.actors.train;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import com.typesafe.config.ConfigValueFactory;
import dev.dinoj.actors.curate.CurateSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A submitted run survives the coordinator's node: on acceptance it is written to
 * {@code dinoj.actors.coordinator.state-dir/submitted-run.conf} (the same keys as {@code coordinator.run} in a node
 * config, written atomically), and a coordinator that starts without a configured run — the singleton moved to
 * another node — takes it from there and resumes it from its run directory's committed checkpoint. The folder must be
 * shared by every coordinator-role node, like the run directories. The runs queued behind it are kept next to it in
 * {@code queued-runs.conf} ({@code dinoj.actors.coordinator.queue}, in order), so the queue survives the node too.
 */
final class SubmittedRuns {

    static final String FILE = "submitted-run.conf";
    static final String QUEUE_FILE = "queued-runs.conf";

    private SubmittedRuns() {}

    /** The state folder of the node config, or null when submissions are not persisted. */
    static Path stateDir(Config node) {
        String d = node.getString("dinoj.actors.coordinator.state-dir");
        return d.isBlank() ? null : Path.of(d);
    }

    /** Writes the accepted run; an I/O error names the folder (the caller refuses the submission). */
    static void save(Path stateDir, RunSpec spec) throws IOException {
        write(
                stateDir,
                FILE,
                ConfigValueFactory.fromMap(Map.of(
                                        "dinoj", Map.of("actors", Map.of("coordinator", Map.of("run", runMap(spec))))))
                                .render(ConfigRenderOptions.concise().setFormatted(true))
                        + "\n");
    }

    /**
     * Writes the runs waiting behind the current one, in order ({@code dinoj.actors.coordinator.queue}, one entry per
     * run with the keys of {@code coordinator.run}); an empty queue removes the file.
     */
    static void saveQueue(Path stateDir, List<RunSpec> queue) throws IOException {
        if (stateDir == null) {
            return;
        }
        if (queue.isEmpty()) {
            Files.deleteIfExists(stateDir.resolve(QUEUE_FILE));
            return;
        }
        List<Object> runs = new ArrayList<>();
        for (RunSpec r : queue) {
            runs.add(runMap(r));
        }
        write(
                stateDir,
                QUEUE_FILE,
                ConfigValueFactory.fromMap(Map.of(
                                        "dinoj", Map.of("actors", Map.of("coordinator", Map.of("queue", runs)))))
                                .render(ConfigRenderOptions.concise().setFormatted(true))
                        + "\n");
    }

    /** The queued runs kept in {@code stateDir}, in order, with the node's other coordinator settings (empty: none). */
    static List<RunSpec> loadQueue(Path stateDir, Config node) {
        if (stateDir == null || !Files.isRegularFile(stateDir.resolve(QUEUE_FILE))) {
            return List.of();
        }
        List<RunSpec> out = new ArrayList<>();
        Config saved = ConfigFactory.parseFile(stateDir.resolve(QUEUE_FILE).toFile());
        for (Config run : saved.getConfigList("dinoj.actors.coordinator.queue")) {
            out.add(RunSpec.fromConfig(run.atPath("dinoj.actors.coordinator.run")
                    .withFallback(node)
                    .resolve()));
        }
        return out;
    }

    /** The keys of {@code coordinator.run} for {@code spec}. */
    private static Map<String, Object> runMap(RunSpec spec) {
        Map<String, Object> run = new LinkedHashMap<>();
        run.put("config", spec.config());
        run.put("set", spec.sets());
        run.put("dir", spec.runDir().toAbsolutePath().toString());
        run.put("steps", spec.steps());
        run.put("checkpoint-every", spec.checkpointEvery());
        CurateSpec c = spec.curate();
        if (c != null) {
            Map<String, Object> cur = new LinkedHashMap<>();
            cur.put("source", c.source());
            cur.put("queries", c.queries());
            cur.put("out", c.out());
            cur.put("target-size", c.targetSize());
            cur.put("embedder", c.embedder());
            cur.put("copy-embedder", c.copyEmbedder());
            cur.put("partitions", c.partitions());
            cur.put("exclude", c.excludeSets());
            cur.put("exclude-threshold", (double) c.excludeThreshold());
            run.put("curate", cur);
        }
        return run;
    }

    private static void write(Path stateDir, String name, String text) throws IOException {
        Files.createDirectories(stateDir);
        Path tmp = stateDir.resolve(name + ".tmp");
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, stateDir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Forgets the kept submission once its run has ended (finished, stopped or failed): a later coordinator starts
     * idle and accepts a new run. Only the file of this run ({@code spec}'s directory) is removed.
     */
    static void clear(Path stateDir, RunSpec spec, Config node) {
        RunSpec kept = stateDir == null ? null : load(stateDir, node);
        if (kept != null && kept.runDir().toAbsolutePath().equals(spec.runDir().toAbsolutePath())) {
            try {
                Files.deleteIfExists(stateDir.resolve(FILE));
            } catch (IOException e) {
                // the next coordinator takes the ended run over again and reports it ended: harmless
            }
        }
    }

    /**
     * The run submitted earlier, with the node's other coordinator settings, or null when none was (or the node
     * does not persist submissions).
     */
    static RunSpec load(Path stateDir, Config node) {
        if (stateDir == null || !Files.isRegularFile(stateDir.resolve(FILE))) {
            return null;
        }
        Config saved = ConfigFactory.parseFile(stateDir.resolve(FILE).toFile());
        return RunSpec.fromConfig(saved.withFallback(node).resolve());
    }
}
