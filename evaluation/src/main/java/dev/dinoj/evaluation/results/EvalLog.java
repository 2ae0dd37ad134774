package dev.dinoj.evaluation.results;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.dinoj.evaluation.features.ModelSource;
import dev.dinoj.evaluation.metrics.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The evaluation results of a run, one JSON line per evaluation in {@code RUN/eval/results.jsonl}:
 * {@code {"time":…,"model":…,"step":N,"source":…,"result":{…the protocol's JSON…}}}. The eval commands append
 * to it when they evaluate a checkpoint of a run directory; {@code dinoj report} reads it for its table.
 */
public final class EvalLog {

    /** The file name under {@code RUN/eval}. */
    public static final String FILE = "results.jsonl";

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * One recorded evaluation.
     *
     * @param time when it was recorded (ISO-8601)
     * @param model the model id ({@link ModelSource#id()})
     * @param step the checkpoint step, or −1
     * @param source a description of the model source
     * @param result the protocol's JSON object
     */
    public record Entry(String time, String model, long step, String source, JsonNode result) {

        /** @return the protocol name ({@code knn}, {@code linear}, …) */
        public String protocol() {
            return result.path("eval").asText("?");
        }
    }

    private EvalLog() {}

    /**
     * The run directory a model source belongs to, if it is a checkpoint inside {@code RUN/checkpoints}.
     *
     * @param source the source
     * @return the run directory, or null
     */
    public static Path runDirOf(ModelSource source) {
        if (source.type() != ModelSource.Type.CHECKPOINT) {
            return null;
        }
        Path ckpts = source.path().toAbsolutePath().getParent();
        if (ckpts == null || !ckpts.getFileName().toString().equals("checkpoints")) {
            return null;
        }
        return ckpts.getParent();
    }

    /**
     * Appends one result.
     *
     * @param runDir the run directory
     * @param source the model evaluated
     * @param resultJson the protocol's one-line JSON
     * @return the file written
     */
    public static Path append(Path runDir, ModelSource source, String resultJson) {
        Path f = runDir.resolve("eval").resolve(FILE);
        ObjectNode entry = Json.object();
        entry.put("time", Instant.now().toString());
        entry.put("model", source.id());
        entry.put("step", source.step());
        entry.put("source", source.describe());
        entry.set("result", Json.parse(resultJson));
        String line = Json.line(entry) + "\n";
        try {
            Files.createDirectories(f.getParent());
            Files.writeString(f, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(f + ": cannot record the result: " + e.getMessage(), e);
        }
    }

    /**
     * Reads the results of a run (none when the file does not exist; unreadable lines are skipped).
     *
     * @param runDir the run directory
     * @return the entries, oldest first
     */
    public static List<Entry> read(Path runDir) {
        Path f = runDir.resolve("eval").resolve(FILE);
        List<Entry> out = new ArrayList<>();
        if (!Files.isRegularFile(f)) {
            return out;
        }
        try {
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                if (line.isBlank()) {
                    continue;
                }
                try {
                    JsonNode n = JSON.readTree(line);
                    out.add(new Entry(
                            n.path("time").asText(""),
                            n.path("model").asText(""),
                            n.path("step").asLong(-1),
                            n.path("source").asText(""),
                            n.path("result")));
                } catch (IOException e) {
                    // a torn last line (a killed writer) must not hide the others
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(f + ": " + e.getMessage(), e);
        }
        return out;
    }
}
