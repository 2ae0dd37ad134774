package dev.dinoj.evaluation.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The numeric columns of a run's {@code metrics.jsonl} (one JSON object per step): losses, schedules, gradient
 * norms, throughput. A resumed run may repeat steps; the last line of a step wins. Torn lines are skipped.
 */
public final class RunMetrics {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final double[] steps;
    private final Map<String, double[]> columns;

    private RunMetrics(double[] steps, Map<String, double[]> columns) {
        this.steps = steps;
        this.columns = columns;
    }

    /**
     * Reads a metrics file.
     *
     * @param file {@code RUN/metrics.jsonl}
     * @return the columns (empty when the file does not exist)
     */
    public static RunMetrics read(Path file) {
        Map<Long, JsonNode> byStep = new TreeMap<>();
        if (Files.isRegularFile(file)) {
            try {
                for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                    if (line.isBlank()) {
                        continue;
                    }
                    try {
                        JsonNode n = JSON.readTree(line);
                        if (n.has("step")) {
                            byStep.put(n.get("step").asLong(), n);
                        }
                    } catch (IOException e) {
                        // torn line
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(file + ": " + e.getMessage(), e);
            }
        }
        List<JsonNode> rows = new ArrayList<>(byStep.values());
        double[] steps = new double[rows.size()];
        Map<String, double[]> cols = new LinkedHashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            JsonNode n = rows.get(i);
            steps[i] = n.get("step").asDouble();
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (e.getKey().equals("step") || !e.getValue().isNumber()) {
                    continue;
                }
                double[] col = cols.computeIfAbsent(e.getKey(), k -> {
                    double[] c = new double[rows.size()];
                    Arrays.fill(c, Double.NaN);
                    return c;
                });
                col[i] = e.getValue().asDouble();
            }
        }
        return new RunMetrics(steps, cols);
    }

    /** @return the steps, ascending */
    public double[] steps() {
        return steps.clone();
    }

    /** @return the number of steps recorded */
    public int size() {
        return steps.length;
    }

    /** @return the column names in first-seen order */
    public List<String> names() {
        return new ArrayList<>(columns.keySet());
    }

    /**
     * Whether a column exists.
     *
     * @param name the column
     * @return whether it has at least one value
     */
    public boolean has(String name) {
        return columns.containsKey(name);
    }

    /**
     * A column, NaN where a step has no value.
     *
     * @param name the column
     * @return its values, aligned with {@link #steps()}
     */
    public double[] column(String name) {
        double[] c = columns.get(name);
        if (c == null) {
            throw new IllegalArgumentException("metrics have no column " + name + "; columns: " + names());
        }
        return c.clone();
    }
}
