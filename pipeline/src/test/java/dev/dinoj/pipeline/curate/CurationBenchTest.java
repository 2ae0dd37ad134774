package dev.dinoj.pipeline.curate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.pipeline.search.Precision;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
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

    /** A small run: bfloat16 kernels checked against float32, Faiss beside them when python3-faiss is installed. */
    @Test
    void smallRunReportsRecallAndTheFaissRatiosWhenFaissIsInstalled() throws Exception {
        StringBuilder why = new StringBuilder();
        FaissSide probe = FaissSide.find("auto", why);
        boolean haveFaiss = probe != null;
        if (probe != null) {
            probe.close();
        }
        List<String> said = new ArrayList<>();
        CurationBench.Result r = CurationBench.run(
                new CurationBench.Config(
                        3_000, 32, 24, 4, 5, 0, 0, 0, 1, 1, Precision.BFLOAT16, 300, haveFaiss ? "auto" : "off"),
                said::add);
        JsonNode j = new ObjectMapper().readTree(r.json());
        assertEquals("bfloat16", j.get("precision").asText());
        assertEquals(1.0, j.get("knn_self_first_fraction").asDouble());
        assertTrue(j.get("knn_recall_vs_float32").asDouble() >= 0.99, r.json());
        assertTrue(j.get("kmeans_inertia").asDouble() > 0);
        Assumptions.assumeTrue(haveFaiss, "python3-faiss not installed: " + why);
        assertTrue(j.get("faiss_knn_seconds").asDouble() > 0, r.json());
        assertEquals(
                j.get("knn_seconds").asDouble() / j.get("faiss_knn_seconds").asDouble(),
                j.get("knn_ratio").asDouble(),
                0.01 * j.get("knn_ratio").asDouble());
        assertTrue(j.get("faiss_kmeans_objective").asDouble() > 0, r.json());
        assertTrue(r.table().contains("dinoj / Faiss in this run: k-means"), r.table());
    }
}
