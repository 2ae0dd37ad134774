package dev.dinoj.deploy.management;

import akka.actor.ExtendedActorSystem;
import akka.actor.typed.ActorRef;
import akka.actor.typed.ActorSystem;
import akka.actor.typed.javadsl.Adapter;
import akka.actor.typed.javadsl.AskPattern;
import akka.http.javadsl.model.ContentType;
import akka.http.javadsl.model.ContentTypes;
import akka.http.javadsl.model.HttpEntities;
import akka.http.javadsl.model.HttpResponse;
import akka.http.javadsl.model.StatusCodes;
import akka.http.javadsl.model.headers.RawHeader;
import akka.http.javadsl.server.AllDirectives;
import akka.http.javadsl.server.Route;
import akka.http.javadsl.unmarshalling.Unmarshaller;
import akka.management.javadsl.ManagementRouteProvider;
import akka.management.javadsl.ManagementRouteProviderSettings;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.typesafe.config.Config;
import dev.dinoj.actors.node.ClusterRuntime;
import dev.dinoj.actors.train.Coordinator;
import dev.dinoj.actors.train.RunStatus;
import dev.dinoj.trainer.checkpoint.ShardedCheckpoints;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * dinoj's routes on the Akka Management HTTP server of every node (next to /alive, /ready, /cluster/members):
 * <ul>
 *   <li>GET /training/status, /training/step, /training/losses, /training/checkpoints, /training/workers: JSON from
 *       the coordinator singleton (503 if it does not answer within {@code dinoj.node.ask-timeout}); they need the
 *       token as the POST routes do unless {@code dinoj.node.open-read-routes = on};</li>
 *   <li>POST /training/stop, /training/checkpoint, /training/submit (queued while a run is in progress; its body
 *       read by {@link SubmitBody}, 400 for bad input, 409 for a refusal because of the coordinator's state),
 *       /training/cancel ({"dir"}: a queued run): need {@code Authorization: Bearer TOKEN} with the token of
 *       {@code dinoj.node.management-token} (401 without or with a wrong one; 403 when no token is configured);</li>
 *   <li>GET /metrics: Prometheus text format ({@link NodeMetrics}); token as for the other GET routes.</li>
 * </ul>
 * Akka Management's own routes (/alive, /ready, /cluster/members, bootstrap's) are not dinoj's and stay open: the
 * kubelet's probes and the other nodes' bootstrap need them.
 */
public final class TrainingRoutes extends AllDirectives implements ManagementRouteProvider {

    private static final ObjectMapper JSON =
            new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
    private static final ContentType PROMETHEUS = ContentTypes.parse("text/plain; version=0.0.4; charset=UTF-8");

    private final ActorSystem<?> system;
    private final byte[] token;
    private final boolean openReadRoutes;
    private final Duration askTimeout;
    private final NodeMetrics metrics;

    /** The routes Akka Management loads ({@code akka.management.http.routes}), with the node's configuration. */
    public TrainingRoutes(ExtendedActorSystem classic) {
        this(Adapter.toTyped(classic), classic.settings().config());
    }

    /** The routes of {@code system} with the {@code dinoj.node} settings of {@code config}. */
    TrainingRoutes(ActorSystem<?> system, Config config) {
        this.system = system;
        this.token = config.getString("dinoj.node.management-token").getBytes(StandardCharsets.UTF_8);
        this.openReadRoutes = config.getBoolean("dinoj.node.open-read-routes");
        this.askTimeout = config.getDuration("dinoj.node.ask-timeout");
        this.metrics = new NodeMetrics(system);
    }

    @Override
    public Route routes(ManagementRouteProviderSettings settings) {
        return concat(
                pathPrefix(
                        "training",
                        () -> concat(
                                get(() -> readable(() -> concat(
                                        path("status", () -> withStatus(s -> s)),
                                        path(
                                                "step",
                                                () -> withStatus(s -> ordered(
                                                        "phase",
                                                        s.phase(),
                                                        "step",
                                                        s.step(),
                                                        "total_steps",
                                                        s.totalSteps(),
                                                        "sampler_position",
                                                        s.samplerPosition(),
                                                        "generation",
                                                        s.generation()))),
                                        path("losses", () -> withStatus(TrainingRoutes::losses)),
                                        path("checkpoints", () -> withStatus(TrainingRoutes::checkpoints)),
                                        path(
                                                "workers",
                                                () -> withStatus(s -> ordered(
                                                        "generation",
                                                        s.generation(),
                                                        "world_size",
                                                        s.workers().length,
                                                        "workers",
                                                        s.workers())))))),
                                post(() -> concat(
                                        path("stop", () -> authorized(() -> control(Coordinator.Stop::new))),
                                        path(
                                                "checkpoint",
                                                () -> authorized(() -> control(Coordinator.CheckpointNow::new))),
                                        path("submit", () -> authorized(() -> jsonBody(this::submit))),
                                        path("cancel", () -> authorized(() -> jsonBody(this::cancel))))))),
                path(
                        "metrics",
                        () -> get(() -> readable(() -> onSuccess(status(), s -> {
                            metrics.update(s.orElse(null));
                            return complete(HttpResponse.create()
                                    .withEntity(HttpEntities.create(
                                            PROMETHEUS, metrics.scrape().getBytes(StandardCharsets.UTF_8))));
                        })))));
    }

    private CompletionStage<Optional<RunStatus>> status() {
        ActorRef<Coordinator.Command> c = coordinator();
        if (c == null) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        return AskPattern.<Coordinator.Command, RunStatus>ask(
                        c, Coordinator.GetStatus::new, askTimeout, system.scheduler())
                .thenApply(Optional::of)
                .exceptionally(e -> Optional.empty());
    }

    private ActorRef<Coordinator.Command> coordinator() {
        ClusterRuntime.Handles h = ClusterRuntime.handles(system);
        return h == null ? null : h.coordinator();
    }

    private Route withStatus(Function<RunStatus, Object> view) {
        return onSuccess(
                status(),
                s -> s.isEmpty()
                        ? complete(
                                StatusCodes.SERVICE_UNAVAILABLE,
                                "the coordinator did not answer within " + askTimeout.toMillis()
                                        + " ms (cluster still forming, or the singleton is moving); try again\n")
                        : json(view.apply(s.get())));
    }

    private Route control(Function<ActorRef<Coordinator.Accepted>, Coordinator.Command> request) {
        ActorRef<Coordinator.Command> c = coordinator();
        if (c == null) {
            return complete(StatusCodes.SERVICE_UNAVAILABLE, "this node has not started its runtime yet\n");
        }
        CompletionStage<Optional<Coordinator.Accepted>> reply =
                AskPattern.<Coordinator.Command, Coordinator.Accepted>ask(
                                c, request::apply, askTimeout, system.scheduler())
                        .thenApply(Optional::of)
                        .exceptionally(e -> Optional.empty());
        return onSuccess(
                reply,
                a -> a.isEmpty()
                        ? complete(StatusCodes.SERVICE_UNAVAILABLE, "the coordinator did not answer; try again\n")
                        : complete(
                                a.get().ok()
                                        ? StatusCodes.OK
                                        : a.get().badRequest() ? StatusCodes.BAD_REQUEST : StatusCodes.CONFLICT,
                                HttpEntities.create(
                                        ContentTypes.APPLICATION_JSON,
                                        toJson(ordered(
                                                "accepted",
                                                a.get().ok(),
                                                "message",
                                                a.get().message())))));
    }

    /** The request body as JSON for {@code inner} (null for an empty body), or 400 when it is not JSON. */
    private Route jsonBody(Function<JsonNode, Route> inner) {
        return entity(Unmarshaller.entityToString(), body -> {
            try {
                return inner.apply(new ObjectMapper().readTree(body));
            } catch (JsonProcessingException e) {
                return complete(StatusCodes.BAD_REQUEST, "the body is not JSON: " + e.getOriginalMessage() + "\n");
            }
        });
    }

    /** POST /training/submit with {"config", "set": [..], "dir", "steps", "checkpoint_every", "curate": {..}}. */
    private Route submit(JsonNode n) {
        SubmitBody body;
        try {
            body = SubmitBody.parse(n);
        } catch (IllegalArgumentException e) {
            return complete(StatusCodes.BAD_REQUEST, e.getMessage() + "\n");
        }
        return control(body::submit);
    }

    /** POST /training/cancel with {"dir"}: takes the queued run of that run directory out of the queue. */
    private Route cancel(JsonNode n) {
        if (n == null || n.path("dir").asText("").isBlank()) {
            return complete(StatusCodes.BAD_REQUEST, "the body needs \"dir\" (the run directory of the queued run)\n");
        }
        String dir = n.get("dir").asText();
        return control(reply -> new Coordinator.Cancel(dir, reply));
    }

    /** A GET route: open with {@code dinoj.node.open-read-routes = on}, else behind the token. */
    private Route readable(Supplier<Route> inner) {
        if (openReadRoutes) {
            return inner.get();
        }
        return authorized(inner, "the routes that read the run, or set dinoj.node.open-read-routes = on");
    }

    private Route authorized(Supplier<Route> inner) {
        return authorized(inner, "the routes that change anything");
    }

    private Route authorized(Supplier<Route> inner, String enables) {
        return optionalHeaderValueByName("Authorization", header -> {
            if (token.length == 0) {
                return complete(
                        StatusCodes.FORBIDDEN,
                        "no management token configured: set dinoj.node.management-token "
                                + "(or DINOJ_MANAGEMENT_TOKEN) on this node to enable " + enables + "\n");
            }
            String h = header.orElse("");
            byte[] given =
                    h.startsWith("Bearer ") ? h.substring(7).trim().getBytes(StandardCharsets.UTF_8) : new byte[0];
            if (!MessageDigest.isEqual(given, token)) {
                return complete(HttpResponse.create()
                        .withStatus(StatusCodes.UNAUTHORIZED)
                        .addHeader(RawHeader.create("WWW-Authenticate", "Bearer realm=\"dinoj\""))
                        .withEntity(
                                header.isEmpty()
                                        ? "missing Authorization: Bearer <token> header\n"
                                        : "wrong bearer token\n"));
            }
            return inner.get();
        });
    }

    private Route json(Object o) {
        return complete(HttpEntities.create(ContentTypes.APPLICATION_JSON, toJson(o)));
    }

    private static String toJson(Object o) {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(o) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Map<String, Object> ordered(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    private static Object losses(RunStatus s) {
        Map<String, Double> last = new LinkedHashMap<>();
        for (int i = 0; i < s.lossNames().length; i++) {
            last.put(s.lossNames()[i], s.lossValues()[i]);
        }
        return ordered("step", s.step(), "last", last, "recent_total", s.recentLosses());
    }

    private static Object checkpoints(RunStatus s) {
        List<String> all = new ArrayList<>();
        if (!s.checkpoint().isEmpty()) {
            Path runDir = Path.of(s.checkpoint()).getParent().getParent();
            try {
                for (Path p : ShardedCheckpoints.list(runDir)) {
                    all.add(p.toString());
                }
            } catch (RuntimeException e) {
                all.add(s.checkpoint()); // the run directory is not visible from this node
            }
        }
        return ordered("committed_step", s.committedStep(), "checkpoint", s.checkpoint(), "checkpoints", all);
    }
}
