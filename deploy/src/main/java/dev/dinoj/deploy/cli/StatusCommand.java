package dev.dinoj.deploy.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code dinoj status [--management URL]}: the run as the coordinator reports it (GET /training/status). */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show the cluster run's status (phase, step, losses, checkpoint, workers) from a node's management HTTP.")
public final class StatusCommand implements Callable<Integer> {

    @Option(names = "--management", defaultValue = "http://127.0.0.1:8558",
            description = "management URL of any node (default http://127.0.0.1:8558)")
    String management;

    @Override
    public Integer call() throws Exception {
        String uri = management.replaceAll("/+$", "") + "/training/status";
        HttpResponse<String> r;
        try {
            r = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build().send(HttpRequest.newBuilder(
                    URI.create(uri)).timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException | IllegalArgumentException e) {
            throw new UserError(uri + ": no answer (" + e.getMessage() + "); start a node (./dinoj node, ./dinoj cluster up)"
                    + " or pass --management");
        }
        if (r.statusCode() != 200) {
            throw new UserError(uri + ": HTTP " + r.statusCode() + ": " + r.body().trim());
        }
        System.out.print(r.body());
        return 0;
    }
}
