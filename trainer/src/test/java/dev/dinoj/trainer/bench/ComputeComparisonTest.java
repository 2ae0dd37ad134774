package dev.dinoj.trainer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class ComputeComparisonTest {

    private static TrainStepBench.Result row(String compute, double imagesPerSecond, double peakMiB) {
        double step = 64 / imagesPerSecond;
        return new TrainStepBench.Result(
                "fmnist-tiny",
                compute,
                64,
                6,
                imagesPerSecond,
                step,
                0.3,
                step * 0.8,
                step * 0.2,
                0,
                0.1,
                0.3,
                0.4,
                326,
                326 / step,
                180,
                326 / step / 180,
                "PyTorch 2.7.1",
                2,
                peakMiB,
                false);
    }

    @Test
    void tableHasBothRowsAndTheRatioAndOneJsonLine() throws Exception {
        ComputeComparison.Result r =
                new ComputeComparison.Result(row("fp32/sdpa", 20.0, 3000), row("bf16/sdpa", 33.0, 2500));
        assertEquals(1.65, r.speedup(), 1e-12);
        String table = r.table();
        assertTrue(table.contains("fp32/sdpa") && table.contains("bf16/sdpa"), table);
        assertTrue(
                table.lines()
                        .anyMatch(l -> l.contains("images/s")
                                && l.contains("20.00")
                                && l.contains("33.00")
                                && l.trim().endsWith("1.65")),
                table);
        String json = r.json();
        assertEquals(1, json.lines().count());
        JsonNode j = new ObjectMapper().readTree(json);
        assertEquals("train-step-compare", j.get("bench").asText());
        assertEquals(1.65, j.get("images_per_s_ratio").asDouble(), 1e-12);
        assertEquals("bf16/sdpa", j.get("other").get("compute").asText());
        assertEquals(20.0, j.get("base").get("images_per_s").asDouble(), 1e-12);
    }
}
