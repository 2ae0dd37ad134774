package dev.dinoj.deploy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.dinoj.pipeline.data.PixelGuard;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dinoj status [--management URL] [--token T]}: the run as the coordinator reports it (GET /training/status,
 * with the token when there is one).
 */
@Command(
        name = "status",
        mixinStandardHelpOptions = true,
        description = "Show the cluster run's status (phase, step, losses, checkpoint, workers, queued runs) from a "
                + "node's management HTTP.")
public final class StatusCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(
            names = "--management",
            defaultValue = "http://127.0.0.1:8558",
            description = "management URL of any node (default http://127.0.0.1:8558)")
    String management;

    @Option(
            names = "--token",
            description = "management bearer token (default: $DINOJ_MANAGEMENT_TOKEN); needed unless the node sets "
                    + "dinoj.node.open-read-routes = on")
    String token;

    @Option(names = "--json", description = "print the status as one JSON line (GET /training/status) for scripts")
    boolean json;

    @Override
    public Integer call() throws Exception {
        String body = new ManagementClient(management).get("/training/status", ManagementClient.optionalToken(token));
        JsonNode s = JSON.readTree(body);
        if (json) {
            System.out.println(JSON.writeValueAsString(s));
        } else {
            System.out.print(summary(s));
        }
        return 0;
    }

    /** A few lines for a person: the run, its phase and progress, the last losses, checkpoint, workers, queue. */
    static String summary(JsonNode s) {
        StringBuilder sb = new StringBuilder();
        sb.append(
                String.format(Locale.ROOT, "run %s in %s: %s%n", text(s, "config"), text(s, "dir"), text(s, "phase")));
        sb.append(String.format(
                Locale.ROOT,
                "step %d/%d  generation %d  workers %d  restarts %d%n",
                s.path("step").asLong(),
                s.path("total_steps").asLong(),
                s.path("generation").asInt(),
                s.path("workers").size(),
                s.path("restarts").asInt()));
        JsonNode names = s.path("loss_names");
        JsonNode values = s.path("loss_values");
        if (names.size() > 0) {
            StringBuilder losses = new StringBuilder();
            for (int i = 0; i < names.size(); i++) {
                losses.append(i == 0 ? "" : "  ")
                        .append(names.get(i).asText())
                        .append(String.format(
                                Locale.ROOT, " %.4f", values.path(i).asDouble()));
            }
            sb.append("losses: ").append(losses).append(System.lineSeparator());
        }
        if (s.path("images_skipped").asInt() > 0) {
            sb.append(String.format(
                    Locale.ROOT,
                    "%d image(s) over the pixel guard (%s) skipped; the data nodes' logs name them%n",
                    s.path("images_skipped").asInt(),
                    PixelGuard.KEY));
        }
        if (!text(s, "checkpoint").isEmpty()) {
            sb.append(String.format(
                    Locale.ROOT,
                    "checkpoint: %s (step %d)%n",
                    text(s, "checkpoint"),
                    s.path("committed_step").asLong()));
        }
        JsonNode cur = s.path("curation");
        if (!cur.isMissingNode()
                && !cur.path("phase").asText("none").equals("none")
                && !cur.path("phase").asText().isEmpty()) {
            sb.append(String.format(
                    Locale.ROOT,
                    "curation: %s, %d of %d objects, %d of %d partitions%n",
                    cur.path("phase").asText(),
                    cur.path("objects_done").asLong(),
                    cur.path("objects_total").asLong(),
                    cur.path("partitions_done").asInt(),
                    cur.path("partitions").asInt()));
        }
        if (s.path("queue").size() > 0) {
            sb.append("queued: ")
                    .append(s.path("queue").size())
                    .append(" run(s)")
                    .append(System.lineSeparator());
        }
        if (!text(s, "message").isEmpty()) {
            sb.append(text(s, "message")).append(System.lineSeparator());
        }
        return sb.toString();
    }

    private static String text(JsonNode s, String field) {
        return s.path(field).asText("");
    }
}
