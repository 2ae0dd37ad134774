package dev.dinoj.deploy.management;

import akka.actor.typed.ActorRef;
import com.fasterxml.jackson.databind.JsonNode;
import dev.dinoj.actors.curate.CurateSpec;
import dev.dinoj.actors.train.Coordinator;
import dev.dinoj.actors.train.RunSpec;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * The body of {@code POST /training/submit}, read strictly: {@code {"config", "set": [..], "dir", "steps",
 * "checkpoint_every", "curate": {"source", "queries", "out", "target_size", "embedder", "copy_embedder",
 * "partitions", "exclude": [..], "exclude_threshold"}}}. A field of another type, out of its bounds or unknown is refused in one line naming it (400); no
 * value silently becomes a default or wraps around. What the fields may name is the coordinator's to check.
 */
record SubmitBody(String config, List<String> sets, String dir, long steps, int checkpointEvery, CurateSpec curate) {

    /** Most {@code set} entries of one submission. */
    static final int MAX_SETS = 256;

    private static final Set<String> FIELDS = Set.of("config", "set", "dir", "steps", "checkpoint_every", "curate");
    private static final Set<String> CURATE_FIELDS = Set.of(
            "source",
            "queries",
            "out",
            "target_size",
            "embedder",
            "copy_embedder",
            "partitions",
            "exclude",
            "exclude_threshold");

    /**
     * @throws IllegalArgumentException one line naming the field
     */
    static SubmitBody parse(JsonNode n) {
        if (n == null || !n.isObject()) {
            throw new IllegalArgumentException(
                    "the body must be a JSON object {\"config\", \"set\", \"dir\", \"steps\","
                            + " \"checkpoint_every\", \"curate\"}");
        }
        known(n, FIELDS, "");
        String config = text(n, "config");
        if (config.isBlank()) {
            throw new IllegalArgumentException("the body needs \"config\" (a preset name, or a HOCON file below "
                    + "dinoj.actors.coordinator.config-roots)");
        }
        List<String> sets = new ArrayList<>();
        JsonNode s = n.path("set");
        if (!s.isMissingNode() && !s.isNull()) {
            if (!s.isArray() || s.size() > MAX_SETS) {
                throw new IllegalArgumentException(
                        "\"set\" must be an array of at most " + MAX_SETS + " \"key=value\" strings");
            }
            for (JsonNode v : s) {
                if (!v.isTextual()) {
                    throw new IllegalArgumentException("\"set\" must be an array of \"key=value\" strings");
                }
                sets.add(v.asText());
            }
        }
        return new SubmitBody(
                config,
                sets,
                text(n, "dir"),
                whole(n, "steps", RunSpec.MAX_STEPS),
                (int) whole(n, "checkpoint_every", Integer.MAX_VALUE),
                curate(n.path("curate")));
    }

    Coordinator.Submit submit(ActorRef<Coordinator.Accepted> replyTo) {
        return new Coordinator.Submit(
                config, sets.toArray(String[]::new), dir, steps, checkpointEvery, curate, replyTo);
    }

    private static CurateSpec curate(JsonNode c) {
        if (c.isMissingNode() || c.isNull()) {
            return null;
        }
        if (!c.isObject()) {
            throw new IllegalArgumentException("\"curate\" must be an object {source, queries, out, target_size, "
                    + "embedder, copy_embedder, partitions, exclude, exclude_threshold}");
        }
        known(c, CURATE_FIELDS, "curate.");
        try {
            return new CurateSpec(
                    text(c, "source"),
                    text(c, "queries"),
                    text(c, "out"),
                    (int) whole(c, "target_size", Integer.MAX_VALUE),
                    text(c, "embedder"),
                    text(c, "copy_embedder"),
                    (int) whole(c, "partitions", CurateSpec.MAX_PARTITIONS),
                    strings(c, "exclude", CurateSpec.MAX_EXCLUDE),
                    fraction(c, "exclude_threshold"));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("\"curate\": " + e.getMessage(), e);
        }
    }

    private static void known(JsonNode n, Set<String> fields, String prefix) {
        for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!fields.contains(f)) {
                throw new IllegalArgumentException("unknown field \"" + prefix + f + "\"; the fields are "
                        + fields.stream().sorted().toList());
            }
        }
    }

    /** A string field ("" when absent or null). */
    private static String text(JsonNode n, String field) {
        JsonNode v = n.path(field);
        if (v.isMissingNode() || v.isNull()) {
            return "";
        }
        if (!v.isTextual()) {
            throw new IllegalArgumentException("\"" + field + "\" must be a string");
        }
        return v.asText();
    }

    /** An array of at most {@code max} strings (empty when absent or null). */
    private static String[] strings(JsonNode n, String field, int max) {
        JsonNode v = n.path(field);
        if (v.isMissingNode() || v.isNull()) {
            return new String[0];
        }
        List<String> out = new ArrayList<>();
        if (v.isArray() && v.size() <= max) {
            for (JsonNode x : v) {
                if (!x.isTextual()) {
                    break;
                }
                out.add(x.asText());
            }
        }
        if (!v.isArray() || out.size() != v.size()) {
            throw new IllegalArgumentException("\"" + field + "\" must be an array of at most " + max + " strings");
        }
        return out.toArray(String[]::new);
    }

    /** A number in {@code [0, 1]} (0 when absent or null). */
    private static float fraction(JsonNode n, String field) {
        JsonNode v = n.path(field);
        if (v.isMissingNode() || v.isNull()) {
            return 0;
        }
        if (!v.isNumber() || !(v.doubleValue() >= 0 && v.doubleValue() <= 1)) {
            throw new IllegalArgumentException("\"" + field + "\" must be a number in [0, 1] (0 = the default)");
        }
        return (float) v.doubleValue();
    }

    /** A whole-number field in {@code [0, max]} (0 when absent or null). */
    private static long whole(JsonNode n, String field, long max) {
        JsonNode v = n.path(field);
        if (v.isMissingNode() || v.isNull()) {
            return 0;
        }
        BigDecimal d = v.isNumber() ? v.decimalValue() : null;
        if (d == null
                || d.stripTrailingZeros().scale() > 0
                || d.signum() < 0
                || d.compareTo(BigDecimal.valueOf(max)) > 0) {
            throw new IllegalArgumentException("\"" + field + "\" must be a whole number in [0, " + max + "]");
        }
        return d.longValueExact();
    }
}
