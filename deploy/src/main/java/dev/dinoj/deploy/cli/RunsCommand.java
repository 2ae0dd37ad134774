package dev.dinoj.deploy.cli;

import dev.dinoj.deploy.errors.UserError;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dinoj runs stop|checkpoint|cancel}: control the cluster's runs through any node's management HTTP (the
 * bearer token of {@code dinoj.node.management-token}); {@code train --cluster} submits, {@code status} shows.
 */
@Command(
        name = "runs",
        mixinStandardHelpOptions = true,
        description = "Control the cluster's runs: stop the running one, checkpoint it now, or cancel a queued one.",
        subcommands = {RunsCommand.Stop.class, RunsCommand.Checkpoint.class, RunsCommand.Cancel.class})
public final class RunsCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        throw new UserError("give a subcommand: runs stop | runs checkpoint | runs cancel --out DIR (see --help)");
    }

    /** The options every subcommand takes. */
    static class Target {
        @Option(
                names = "--management",
                defaultValue = "http://127.0.0.1:8558",
                description = "management URL of any node (default http://127.0.0.1:8558)")
        String management;

        @Option(names = "--token", description = "management bearer token (default: $DINOJ_MANAGEMENT_TOKEN)")
        String token;

        int post(String command, String path, Map<String, ?> body) {
            String answer = new ManagementClient(management).post(path, ManagementClient.token(token, command), body);
            System.out.println(answer);
            return 0;
        }
    }

    @Command(
            name = "stop",
            mixinStandardHelpOptions = true,
            description = "Stop the running run after the step in flight (its last committed checkpoint stays; the "
                    + "next queued run then starts).")
    static final class Stop implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        Target target = new Target();

        @Override
        public Integer call() {
            return target.post("runs stop", "/training/stop", null);
        }
    }

    @Command(
            name = "checkpoint",
            mixinStandardHelpOptions = true,
            description = "Checkpoint the running run after the step in flight.")
    static final class Checkpoint implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        Target target = new Target();

        @Override
        public Integer call() {
            return target.post("runs checkpoint", "/training/checkpoint", null);
        }
    }

    @Command(
            name = "cancel",
            mixinStandardHelpOptions = true,
            description = "Take a queued run out of the queue before it starts (the running one is stopped with runs "
                    + "stop).")
    static final class Cancel implements Callable<Integer> {
        @picocli.CommandLine.Mixin
        Target target = new Target();

        @Option(
                names = "--out",
                required = true,
                description = "the queued run's directory (its train --cluster --out)")
        Path out;

        @Override
        public Integer call() {
            return target.post(
                    "runs cancel",
                    "/training/cancel",
                    Map.of("dir", out.toAbsolutePath().toString()));
        }
    }
}
