package dev.dinoj.deploy.cli;

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

    @Override
    public Integer call() {
        System.out.print(
                new ManagementClient(management).get("/training/status", ManagementClient.optionalToken(token)));
        return 0;
    }
}
