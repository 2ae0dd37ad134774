package dev.dinoj.deploy.management;

import akka.actor.typed.ActorSystem;
import akka.cluster.MemberStatus;
import akka.cluster.typed.Cluster;
import dev.dinoj.actors.train.RunStatus;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToDoubleFunction;
import java.util.stream.StreamSupport;

/**
 * The node's Prometheus metrics: the run as the coordinator last reported it (refreshed on every scrape), the
 * cluster membership as this node sees it, and JVM memory and threads.
 */
public final class NodeMetrics {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final AtomicReference<RunStatus> last = new AtomicReference<>();
    private volatile boolean coordinatorReachable;

    public NodeMetrics(ActorSystem<?> system) {
        Cluster cluster = Cluster.get(system);
        Gauge.builder(
                        "dinoj.cluster.members.up",
                        cluster,
                        c -> StreamSupport.stream(c.state().getMembers().spliterator(), false)
                                .filter(m -> m.status() == MemberStatus.up())
                                .count())
                .description("members with status Up")
                .register(registry);
        Gauge.builder(
                        "dinoj.cluster.unreachable",
                        cluster,
                        c -> c.state().getUnreachable().size())
                .description("members this node sees as unreachable")
                .register(registry);
        Gauge.builder("dinoj.coordinator.reachable", this, m -> m.coordinatorReachable ? 1 : 0)
                .description("1 if the coordinator answered the last scrape")
                .register(registry);
        gauge("dinoj.training.step", "steps completed", s -> s.step());
        gauge("dinoj.training.total.steps", "steps of the run", s -> s.totalSteps());
        gauge("dinoj.training.generation", "generation of the Aeron world", s -> s.generation());
        gauge("dinoj.training.world.size", "workers in the current world", s -> s.workers().length);
        gauge("dinoj.training.committed.step", "step of the last committed checkpoint", s -> s.committedStep());
        gauge("dinoj.training.sampler.position", "global data-stream position", s -> s.samplerPosition());
        gauge("dinoj.training.restarts", "world re-formations after failures", s -> s.restarts());
        gauge(
                "dinoj.data.images.skipped",
                "images of the run's dataset over the pixel guard (dinoj.data.max-image-pixels), skipped",
                s -> s.imagesSkipped());
        gauge(
                "dinoj.training.failed",
                "1 when the run ended failed (cause in /training/status and audit.jsonl)",
                s -> "failed".equals(s.phase()) ? 1 : 0);
        gauge(
                "dinoj.training.loss",
                "total loss of the last step",
                s -> s.recentLosses().length == 0 ? Double.NaN : s.recentLosses()[s.recentLosses().length - 1]);
        gauge(
                "dinoj.training.queued.runs",
                "submitted runs waiting for the current one to end",
                s -> s.queue() == null ? 0 : s.queue().length);
        gauge(
                "dinoj.curation.objects.done",
                "pool objects ingested by the curation workers",
                s -> s.curation() == null ? 0 : s.curation().objectsDone());
        gauge(
                "dinoj.curation.objects.listed",
                "pool objects listed for curation",
                s -> s.curation() == null ? 0 : s.curation().objectsTotal());
        gauge(
                "dinoj.curation.partitions.done",
                "curation partitions ingested",
                s -> s.curation() == null ? 0 : s.curation().partitionsDone());
        gauge(
                "dinoj.curation.partitions",
                "curation partitions of the pool",
                s -> s.curation() == null ? 0 : s.curation().partitions());
        gauge(
                "dinoj.curation.done",
                "1 once the curated set is written",
                s -> s.curation() != null && s.curation().phase().equals("done") ? 1 : 0);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
    }

    private void gauge(String name, String description, ToDoubleFunction<RunStatus> f) {
        Gauge.builder(name, last, ref -> ref.get() == null ? Double.NaN : f.applyAsDouble(ref.get()))
                .description(description)
                .register(registry);
    }

    /** Records the coordinator's latest answer (null: it did not answer). */
    public void update(RunStatus status) {
        coordinatorReachable = status != null;
        if (status != null) {
            last.set(status);
        }
    }

    /** The Prometheus text exposition. */
    public String scrape() {
        return registry.scrape();
    }
}
