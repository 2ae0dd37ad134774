package dev.dinoj.deploy.cli;

import dev.dinoj.deploy.errors.ExitCodes;
import dev.dinoj.deploy.node.NodeCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point of {@code ./dinoj}. */
@Command(
        name = "dinoj",
        mixinStandardHelpOptions = true,
        version = "dinoj 0.1.0",
        description = "DINOv2 on the JVM: curate, pretrain, evaluate, export.",
        subcommands = {
            DemoCommand.class,
            TrainCommand.class,
            DistillCommand.class,
            ExportCommand.class,
            IngestCommand.class,
            CurateCommand.class,
            S3ServerCommand.class,
            ReportCommand.class,
            EvalCommand.class,
            BenchCommand.class,
            VerifyReferenceCommand.class,
            NodeCommand.class,
            ClusterCommand.class,
            StatusCommand.class,
            RunsCommand.class,
            CommandLine.HelpCommand.class
        })
public final class Main implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code (tests call this). */
    public static int run(String... args) {
        return ExitCodes.withUserErrors(new CommandLine(new Main())).execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }
}
