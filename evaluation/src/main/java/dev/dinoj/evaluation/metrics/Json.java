package dev.dinoj.evaluation.metrics;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;

/**
 * The one-line JSON results every protocol prints (and the CLI's command summaries), written with Jackson: one mapper,
 * and the number formats of the results (4 decimals for percentages and scores, 6 significant digits for
 * hyper-parameters, or a given number of decimals).
 *
 * <p>Numbers are {@link BigDecimal}s, so that a line keeps its digits when it is read back and written again (the
 * results log embeds the protocols' lines).
 */
public final class Json {

    /** Reads decimals as exact {@link BigDecimal}s (not doubles), so that they are written back digit for digit. */
    public static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
            .build();

    private Json() {}

    /** @return a new, empty JSON object (fields keep the order they are put in) */
    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    /**
     * A number with 4 decimals (rounded half up, as {@code %.4f}), or {@code null} when not finite.
     *
     * @param v the value
     * @return the number to put, or null (written as JSON {@code null})
     */
    public static BigDecimal num(double v) {
        return fixed(v, 4);
    }

    /**
     * A number with {@code decimals} decimals (rounded half up, as {@code %.Nf}), or {@code null} when not finite.
     *
     * @param v the value
     * @param decimals digits after the point
     * @return the number to put, or null (written as JSON {@code null})
     */
    public static BigDecimal fixed(double v, int decimals) {
        return Double.isFinite(v) ? BigDecimal.valueOf(v).setScale(decimals, RoundingMode.HALF_UP) : null;
    }

    /**
     * A number with 6 significant digits (as {@code %.6g}), or {@code null} when not finite.
     *
     * @param v the value
     * @return the number to put, or null (written as JSON {@code null})
     */
    public static BigDecimal sci(double v) {
        return Double.isFinite(v) ? new BigDecimal(String.format(Locale.ROOT, "%.6g", v)) : null;
    }

    /**
     * @param node a JSON value
     * @return its JSON text on one line
     */
    public static String line(JsonNode node) {
        try {
            return MAPPER.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + node.getNodeType() + " as JSON", e);
        }
    }

    /**
     * @param line one JSON value, e.g. a protocol's result line
     * @return the tree, its numbers exact
     * @throws IllegalArgumentException if it is not JSON
     */
    public static JsonNode parse(String line) {
        try {
            return MAPPER.readTree(line);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not a JSON value: " + e.getOriginalMessage(), e);
        }
    }
}
