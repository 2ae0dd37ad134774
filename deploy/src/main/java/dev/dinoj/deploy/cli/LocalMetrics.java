package dev.dinoj.deploy.cli;

import com.sun.net.httpserver.HttpServer;
import dev.dinoj.deploy.errors.UserError;
import dev.dinoj.pipeline.data.PixelGuard;
import dev.dinoj.pipeline.ingest.IngestStats;
import dev.dinoj.pipeline.ingest.ObjectState;
import dev.dinoj.trainer.bench.TrainStepBench;
import dev.dinoj.trainer.train.StepReport;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToDoubleFunction;

/**
 * Prometheus metrics of a single-JVM {@code train} or {@code curate} ({@code --metrics-port N}): {@code GET /metrics}
 * on 127.0.0.1 (loopback only; scrape it through an agent on the host) with the run's progress, its throughput and
 * losses, and the JVM's GC, heap, direct buffers and the process's resident memory (heap plus DJL/PyTorch native).
 */
final class LocalMetrics implements AutoCloseable {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final HttpServer server;
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final AtomicReference<StepReport> lastStep = new AtomicReference<>();
    private final AtomicReference<IngestStats.Snapshot> lastIngest = new AtomicReference<>();
    private final Map<String, Double> losses = new ConcurrentHashMap<>();

    private LocalMetrics(int port) {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        gc.bindTo(registry);
        Gauge.builder("process.resident.memory", this, m -> TrainStepBench.procStatusBytes("VmRSS"))
                .baseUnit("bytes")
                .description("resident set of this process: Java heap, DJL/PyTorch native memory and the rest")
                .register(registry);
        try {
            server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
        } catch (IOException e) {
            throw new UserError(
                    "--metrics-port " + port + ": cannot listen on 127.0.0.1:" + port + " (" + e.getMessage() + ")");
        }
        server.createContext("/metrics", ex -> {
            byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
    }

    /** Serves on {@code port} (0 = any free port; {@link #port()} tells which), or null when {@code port} is null. */
    static LocalMetrics start(Integer port) {
        return port == null ? null : new LocalMetrics(port);
    }

    int port() {
        return server.getAddress().getPort();
    }

    /** Gauges of a training run, fed by {@link #step}. */
    LocalMetrics forTraining() {
        step("dinoj.train.step", "steps completed", r -> r.step());
        step("dinoj.train.total.steps", "steps of the run", r -> r.totalSteps());
        step("dinoj.train.images.per.second", "images per second of the last step", StepReport::imagesPerSecond);
        step("dinoj.train.step.seconds", "compute seconds of the last step", StepReport::computeSeconds);
        step("dinoj.train.data.wait.seconds", "seconds the last step waited for data", StepReport::dataWaitSeconds);
        step("dinoj.train.total.loss", "total loss of the last step", StepReport::totalLoss);
        step(
                "dinoj.train.lr",
                "learning rate of the last step",
                r -> r.schedule().lr());
        return this;
    }

    /** The gauge {@code dinoj_data_images_skipped}: the images of the run's dataset over {@code guard}, skipped. */
    LocalMetrics pixelGuard(PixelGuard guard) {
        Gauge.builder("dinoj.data.images.skipped", guard, PixelGuard::skipped)
                .description("images over the pixel guard (dinoj.data.max-image-pixels), skipped")
                .register(registry);
        return this;
    }

    /** Records a training step. */
    void step(StepReport r) {
        lastStep.set(r);
        r.losses().forEach((term, v) -> {
            if (losses.put(term, v) == null) {
                Gauge.builder("dinoj.train.loss", losses, m -> m.getOrDefault(term, Double.NaN))
                        .tags(Tags.of("term", term))
                        .description("a loss term of the last step")
                        .register(registry);
            }
        });
    }

    /** Gauges of a curation's ingestion, fed by {@link #ingest}. */
    LocalMetrics forCuration() {
        ingest("dinoj.curate.objects.listed", "objects listed", s -> s.listed());
        ingest("dinoj.curate.objects.resumed", "objects recorded by an earlier run", s -> s.resumed());
        ingest("dinoj.curate.objects.recorded", "objects and archive members recorded", s -> s.recorded());
        ingest("dinoj.curate.downloaded.bytes", "bytes downloaded", s -> s.bytes());
        ingest("dinoj.curate.embedded", "images embedded", s -> s.embedded());
        ingest("dinoj.curate.rate", "objects recorded per second", IngestStats.Snapshot::rate);
        for (ObjectState st : ObjectState.values()) {
            Gauge.builder("dinoj.curate.objects", lastIngest, ref -> {
                        IngestStats.Snapshot s = ref.get();
                        return s == null ? 0 : s.states().getOrDefault(st, 0L);
                    })
                    .tags(Tags.of("state", st.id()))
                    .description("objects recorded in each state")
                    .register(registry);
        }
        return this;
    }

    /** Records an ingestion snapshot. */
    void ingest(IngestStats.Snapshot s) {
        lastIngest.set(s);
    }

    private void step(String name, String help, ToDoubleFunction<StepReport> f) {
        Gauge.builder(name, lastStep, ref -> ref.get() == null ? Double.NaN : f.applyAsDouble(ref.get()))
                .description(help)
                .register(registry);
    }

    private void ingest(String name, String help, ToDoubleFunction<IngestStats.Snapshot> f) {
        Gauge.builder(name, lastIngest, ref -> ref.get() == null ? 0 : f.applyAsDouble(ref.get()))
                .description(help)
                .register(registry);
    }

    @Override
    public void close() {
        server.stop(0);
        gc.close();
        registry.close();
    }
}
