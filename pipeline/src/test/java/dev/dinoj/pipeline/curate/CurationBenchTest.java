package dev.dinoj.pipeline.curate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CurationBenchTest {

    @Test
    void shouldWriteOneJsonLineWithFourSignificantDigits() throws Exception {
        Map<String, Object> numbers = new LinkedHashMap<>();
        numbers.put("kmeans_s", 12.34567);
        numbers.put("vectors", 1_000_000);
        numbers.put("recall", Double.NaN);
        numbers.put("shape", "1M x 64 \"f32\"");
        String line = new CurationBench.Result(List.of(), 100, numbers).json();
        assertEquals(
                "{\"bench\":\"curation\",\"kmeans_s\":12.35,\"vectors\":1.000E+6,\"recall\":null,"
                        + "\"shape\":\"1M x 64 \\\"f32\\\"\"}",
                line);
        JsonNode back = new ObjectMapper().readTree(line);
        assertEquals(1_000_000, back.get("vectors").asDouble());
    }
}
