package dev.dinoj.trainer.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

class TrainStepBenchTest {

    @Test
    void shouldWriteOneJsonLine() throws Exception {
        TrainStepBench.Result r = new TrainStepBench.Result(
                "fmnist-\"pico\"",
                "bf16/sdpa",
                64,
                10,
                123.45678,
                0.51849,
                0.01,
                0.4,
                0.05,
                0.001,
                0.1,
                0.2,
                0.3,
                12.345,
                24.0,
                100.0,
                0.24,
                "PyTorch",
                2,
                1536.4,
                true);
        String line = r.json();
        assertTrue(
                line.startsWith(
                        "{\"bench\":\"train-step\",\"config\":\"fmnist-\\\"pico\\\"\",\"compute\":\"bf16/sdpa\",\"batch\":64,"),
                line);
        assertTrue(line.contains("\"images_per_s\":123.457,\"step_s\":0.5185,"), line);
        assertTrue(
                line.endsWith(
                        "\"engine\":\"PyTorch\",\"threads\":2,\"peak_rss_mib\":1536,\"activation_checkpointing\":true}"),
                line);
        JsonNode j = new ObjectMapper().readTree(line);
        assertEquals(12.35, j.get("gflop_per_step").asDouble());
        assertEquals(22, j.size()); // with compute and activation_checkpointing
        assertTrue(TrainStepBench.peakResidentMiB() > 10, "this JVM's own peak resident set");
    }
}
