package dev.dinoj.deploy.cli;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dinoj.deploy.errors.UserError;
import dev.dinoj.pipeline.ingest.IngestStats;
import dev.dinoj.pipeline.ingest.ObjectState;
import dev.dinoj.trainer.schedule.Schedules;
import dev.dinoj.trainer.train.StepReport;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The Prometheus endpoint of a single-JVM train or curate, scraped over HTTP. */
class LocalMetricsTest {

    static String scrape(int port) throws Exception {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString())
                .body();
    }

    @Test
    void shouldServeTheRunsProgressLossesAndMemory() throws Exception {
        try (LocalMetrics m = LocalMetrics.start(0).forTraining()) {
            m.step(new StepReport(
                    12,
                    100,
                    Map.of("dino_local_crops_loss", 9.5, "ibot_loss", 3.25),
                    12.75,
                    new Schedules.Values(1e-3, 0.04, 0.992, 0.04, 0.0),
                    Map.of(),
                    42.5,
                    0.01,
                    0.7,
                    224));
            String text = scrape(m.port());
            assertTrue(text.contains("dinoj_train_step 12.0"), text);
            assertTrue(text.contains("dinoj_train_images_per_second 42.5"), text);
            assertTrue(text.contains("dinoj_train_loss{term=\"ibot_loss\"} 3.25"), text);
            assertTrue(text.contains("dinoj_train_data_wait_seconds 0.01"), text);
            assertTrue(text.contains("dinoj_train_total_loss 12.75"), text);
            assertTrue(text.contains("process_resident_memory_bytes"), text);
            assertTrue(text.contains("jvm_gc_"), "GC: " + text);
            assertTrue(text.contains("jvm_buffer_memory_used_bytes"), "direct buffers: " + text);
            UserError busy = assertThrows(UserError.class, () -> LocalMetrics.start(m.port()));
            assertTrue(
                    busy.getMessage().startsWith("--metrics-port " + m.port() + ": cannot listen"), busy.getMessage());
        }
    }

    @Test
    void shouldServeACurationsCountsPerState() throws Exception {
        try (LocalMetrics m = LocalMetrics.start(0).forCuration()) {
            m.ingest(new IngestStats.Snapshot(
                    300, 0, 290, 1 << 20, 250, 1, Map.of(ObjectState.INGESTED, 250L, ObjectState.CORRUPT, 4L), 10));
            String text = scrape(m.port());
            assertTrue(text.contains("dinoj_curate_objects_listed 300.0"), text);
            assertTrue(text.contains("dinoj_curate_objects{state=\"corrupt\"} 4.0"), text);
            assertTrue(text.contains("dinoj_curate_objects{state=\"unreadable\"} 0.0"), text);
        }
    }
}
